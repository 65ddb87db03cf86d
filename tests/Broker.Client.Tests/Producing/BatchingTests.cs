using System.Diagnostics;
using Broker.Client.Tests.Fakes;
using Xunit;
using static Broker.Client.Tests.Fakes.Batches;

namespace Broker.Client.Tests.Producing;

/// <summary>When batches are sent: full, lingered or flushed; how many requests at once; in what order.</summary>
public sealed class BatchingTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_full_batch_is_sent_without_waiting_for_the_linger()
    {
        var transport = new FakeTransport().WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { BatchSize = 1000, LingerMs = 600_000 }, transport);
        var results = new List<Task<DeliveryResult>>();
        for (var i = 0; i < 12; i++) results.Add(producer.ProduceAsync("t", new Message { Value = Bytes(new string('x', 95) + $"{i:D5}") }));

        Assert.True(transport.WaitForProduced(1, Wait), "the full batch was not sent");
        var first = Assert.Single(Sent(transport.Produced));
        Assert.InRange(first.Values.Count, 7, 9); // ~120 bytes a record in a 1000-byte batch
        await Task.WhenAll(results.Take(first.Values.Count)).WaitAsync(Wait);
        Assert.All(results.Skip(first.Values.Count), r => Assert.False(r.IsCompleted));
        Assert.Equal(first.Values.Count - 1, (await results[first.Values.Count - 1]).Offset);
    }

    [Fact]
    public async Task A_partial_batch_is_sent_once_the_linger_passes()
    {
        var transport = new FakeTransport().WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 100 }, transport);
        var clock = Stopwatch.StartNew();
        var results = new[]
        {
            producer.ProduceAsync("t", new Message { Value = Bytes("a") }),
            producer.ProduceAsync("t", new Message { Value = Bytes("b") }),
            producer.ProduceAsync("t", new Message { Value = Bytes("c") }),
        };
        var delivered = await Task.WhenAll(results).WaitAsync(Wait);
        Assert.True(clock.ElapsedMilliseconds >= 90, $"sent after {clock.ElapsedMilliseconds} ms, before the 100 ms linger");
        var batch = Assert.Single(Sent(transport.Produced));
        Assert.Equal(["a", "b", "c"], batch.Values);
        Assert.Equal([0L, 1L, 2L], delivered.Select(d => d.Offset));
    }

    [Fact]
    public async Task Flush_sends_lingering_batches_at_once_and_waits_for_their_deliveries()
    {
        var transport = new FakeTransport().WithTopic("t", 3);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 600_000 }, transport);
        var delivered = 0;
        for (var i = 0; i < 30; i++)
            producer.Produce("t", new Message { Key = Bytes($"k{i}"), Value = Bytes("v") }, (r, e) => { if (r is not null) Interlocked.Increment(ref delivered); });
        await producer.FlushAsync().WaitAsync(Wait);
        Assert.Equal(30, delivered);
        // One request carries the batches of every partition.
        var request = Assert.Single(transport.Produced);
        Assert.Equal(3, request.Partitions.Select(p => p.Partition).Distinct().Count());
    }

    [Fact]
    public async Task Ready_batches_of_many_partitions_share_a_request_up_to_MaxRequestSize()
    {
        var transport = new FakeTransport { AutoReply = false }.WithTopic("t", 16);
        await using var producer = new Producer(new ProducerConfig { BatchSize = 2000, LingerMs = 600_000, MaxInFlight = 1, MaxRequestSize = 8192 }, transport);
        // The first request goes out alone; everything produced while it is unanswered waits for the slot.
        var first = producer.ProduceAsync("t", 0, new Message { Value = new byte[1900] });
        Assert.True(transport.WaitForProduced(1, Wait));
        for (var p = 0; p < 16; p++) _ = producer.ProduceAsync("t", p, new Message { Value = new byte[1900] });
        var flushed = producer.FlushAsync();
        transport.Reply(0);
        await first.WaitAsync(Wait);
        Assert.True(transport.WaitForProduced(2, Wait));
        var second = transport.Produced[1];
        Assert.True(second.Partitions.Count > 1, "ready batches were not combined");
        Assert.True(second.Partitions.Sum(p => p.Batch.Length) <= 8192, "request exceeds MaxRequestSize");
        // Answer the rest as they come until the flush is done.
        var replied = 1;
        var deadline = DateTime.UtcNow + Wait;
        while (!flushed.IsCompleted && DateTime.UtcNow < deadline)
        {
            if (transport.WaitForProduced(replied + 1, TimeSpan.FromMilliseconds(50))) transport.Reply(replied++);
        }
        await flushed.WaitAsync(Wait);
        Assert.Equal(17, Sent(transport.Produced).Count);
    }

    [Fact]
    public async Task No_more_than_MaxInFlight_requests_are_outstanding()
    {
        var transport = new FakeTransport { AutoReply = false }.WithTopic("t", 1);
        // MaxRequestSize fits one batch, so each batch is its own request.
        await using var producer = new Producer(new ProducerConfig { BatchSize = 900, LingerMs = 0, MaxInFlight = 2, MaxRequestSize = 1024 }, transport);
        var results = new List<Task<DeliveryResult>>();
        for (var i = 0; i < 5; i++) results.Add(producer.ProduceAsync("t", new Message { Value = new byte[800] }));

        Assert.True(transport.WaitForProduced(2, Wait));
        Assert.False(transport.WaitForProduced(3, TimeSpan.FromMilliseconds(300)), "a third request went out with two unanswered");
        transport.Reply(0);
        Assert.True(transport.WaitForProduced(3, Wait));
        for (var i = 1; i < 5; i++)
        {
            Assert.True(transport.WaitForProduced(i + 1, Wait));
            transport.Reply(i);
        }
        var delivered = await Task.WhenAll(results).WaitAsync(Wait);
        Assert.Equal([0L, 1L, 2L, 3L, 4L], delivered.Select(d => d.Offset));
    }

    [Fact]
    public async Task Replies_arriving_out_of_order_are_reported_in_send_order()
    {
        var transport = new FakeTransport { AutoReply = false }.WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { BatchSize = 900, LingerMs = 0, MaxInFlight = 3, MaxRequestSize = 1024 }, transport);
        var order = new List<long>();
        for (var i = 0; i < 3; i++)
            producer.Produce("t", new Message { Value = new byte[800] }, (r, _) => { lock (order) order.Add(r!.Offset); });
        Assert.True(transport.WaitForProduced(3, Wait));
        var replies = transport.Produced.Select(transport.Answer).ToArray();
        transport.Reply(2, _ => replies[2]);
        transport.Reply(1, _ => replies[1]);
        transport.Reply(0, _ => replies[0]);
        await producer.FlushAsync().WaitAsync(Wait);
        Assert.Equal([0L, 1L, 2L], order);
    }

    [Fact]
    public async Task Records_of_one_partition_keep_their_order_across_many_requests()
    {
        var transport = new FakeTransport().WithTopic("t", 2);
        await using var producer = new Producer(new ProducerConfig { BatchSize = 512, LingerMs = 1, MaxInFlight = 5 }, transport);
        var offsets = new List<long>[2] { [], [] };
        for (var i = 0; i < 5000; i++)
        {
            var partition = i % 2;
            producer.Produce("t", partition, new Message { Value = Bytes($"{i}") }, (r, e) =>
            {
                Assert.Null(e);
                lock (offsets) offsets[r!.Partition].Add(r.Offset);
            });
        }
        await producer.FlushAsync().WaitAsync(Wait);
        foreach (var list in offsets) Assert.Equal(Enumerable.Range(0, 2500).Select(i => (long)i), list);
        var sent = Sent(transport.Produced);
        for (var p = 0; p < 2; p++)
        {
            var values = sent.Where(b => b.Partition == p).SelectMany(b => b.Values).Select(int.Parse).ToList();
            Assert.Equal(Enumerable.Range(0, 2500).Select(i => i * 2 + p), values);
        }
    }

    [Fact]
    public async Task Acks_none_reports_offset_minus_one_once_sent_and_expects_no_reply()
    {
        var transport = new FakeTransport().WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { Acks = Acks.None, LingerMs = 0 }, transport);
        var delivered = await producer.ProduceAsync("t", new Message { Value = Bytes("fire") }).WaitAsync(Wait);
        Assert.Equal(new DeliveryResult("t", 0, -1), delivered);
        Assert.Equal((short)0, Assert.Single(transport.Produced).Acks);
    }

    [Fact]
    public async Task Acks_all_is_sent_as_minus_one()
    {
        var transport = new FakeTransport().WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig(), transport);
        await producer.ProduceAsync("t", new Message { Value = Bytes("v") }).WaitAsync(Wait);
        var request = Assert.Single(transport.Produced);
        Assert.Equal((short)-1, request.Acks);
        Assert.True(request.TimeoutMs > 0);
    }

    [Fact]
    public async Task Headers_timestamp_and_null_key_reach_the_batch()
    {
        var transport = new FakeTransport().WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 0 }, transport);
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);
        await producer.ProduceAsync("t", new Message { Value = Bytes("v"), Timestamp = at, Headers = [new("trace", Bytes("abc")), new("empty", null)] }).WaitAsync(Wait);
        var part = Assert.Single(Assert.Single(transport.Produced).Partitions);
        var reader = new Broker.Protocol.Records.RecordBatchReader(part.Batch);
        Assert.True(reader.TryReadNext(out var record));
        Assert.Null(record.Key);
        Assert.Equal(at.ToUnixTimeMilliseconds(), record.Timestamp);
        Assert.Equal("trace", record.Headers[0].Key);
        Assert.Equal("abc", Text(record.Headers[0].Value));
        Assert.Null(record.Headers[1].Value);
    }

    [Theory]
    [InlineData(Broker.Protocol.Records.Compression.CompressionCodec.Gzip)]
    [InlineData(Broker.Protocol.Records.Compression.CompressionCodec.Snappy)]
    [InlineData(Broker.Protocol.Records.Compression.CompressionCodec.Lz4)]
    [InlineData(Broker.Protocol.Records.Compression.CompressionCodec.Zstd)]
    public async Task CompressionType_sends_batches_compressed_with_that_codec(Broker.Protocol.Records.Compression.CompressionCodec codec)
    {
        var transport = new FakeTransport().WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 50, CompressionType = codec }, transport);
        var results = Enumerable.Range(0, 100).Select(i => producer.ProduceAsync("t", new Message { Key = Bytes($"k{i % 3}"), Value = Bytes($"the same text, record {i}") })).ToList();
        await Task.WhenAll(results).WaitAsync(Wait);

        var part = Assert.Single(Assert.Single(transport.Produced).Partitions);
        Assert.Equal(Broker.Protocol.Records.BatchValidation.Valid, Broker.Protocol.Records.RecordBatch.Validate(part.Batch.Span, out var header));
        Assert.Equal((int)codec, header.CompressionType);
        Assert.Equal(100, header.RecordCount);
        Assert.True(part.Batch.Length < 100 * 25, $"{part.Batch.Length} bytes for 100 records of ~27 bytes: not compressed");
        var sent = Assert.Single(Sent(transport.Produced));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"the same text, record {i}"), sent.Values);
    }

    [Fact]
    public void An_undefined_CompressionType_is_refused_as_InvalidConfig()
    {
        var error = Assert.Throws<BrokerException>(() => new Producer(new ProducerConfig { CompressionType = (Broker.Protocol.Records.Compression.CompressionCodec)5 }, new FakeTransport()));
        Assert.Equal(Broker.Protocol.ErrorCode.InvalidConfig, error.Error);
    }
}
