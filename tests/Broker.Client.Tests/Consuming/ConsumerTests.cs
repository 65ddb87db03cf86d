using Broker.Client.Tests.Fakes;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Xunit;
using static Broker.Client.Tests.Fakes.Batches;

namespace Broker.Client.Tests.Consuming;

/// <summary>The consumer against a scripted log: positions, special offsets, prefetch and errors.</summary>
public sealed class ConsumerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>A partition log of batches [0..9], [10..14]; fetches return the batch holding the offset onwards, like a node.</summary>
    private static FakeTransport Log(params byte[][] batches)
    {
        var transport = new FakeTransport();
        var end = 0L;
        foreach (var b in batches)
        {
            Broker.Protocol.Records.RecordBatch.TryReadHeader(b, out var h);
            end = Math.Max(end, h.LastOffset + 1);
        }
        transport.Handler = async request =>
        {
            switch (request)
            {
                case ListOffsetsRequest l:
                    return new ListOffsetsResponse(l.Topic, l.Partition, ErrorCode.None, null, l.Timestamp == OffsetSpec.Earliest ? 0 : end, -1);
                case FetchRequest f when f.Offset > end:
                    return new FetchResponse(f.Topic, f.Partition, ErrorCode.OffsetOutOfRange,
                        $"offset {f.Offset} is out of range for {f.Topic}/{f.Partition}: valid offsets are 0 (log start) to {end} (log end); seek to one of them", end, 0, default);
                case FetchRequest f:
                    var from = batches.Where(b => { Broker.Protocol.Records.RecordBatch.TryReadHeader(b, out var h); return h.LastOffset >= f.Offset; }).ToArray();
                    if (from.Length == 0)
                    {
                        await Task.Delay(Math.Min(f.MaxWaitMs, 50)); // the long poll: nothing new
                        return new FetchResponse(f.Topic, f.Partition, ErrorCode.None, null, end, 0, default);
                    }
                    return new FetchResponse(f.Topic, f.Partition, ErrorCode.None, null, end, 0, Concat(from));
                default:
                    throw new InvalidOperationException();
            }
        };
        return transport;
    }

    private static List<ConsumeResult> ConsumeAll(Consumer consumer, int count)
    {
        var results = new List<ConsumeResult>();
        while (results.Count < count)
        {
            var next = consumer.Consume(Wait);
            Assert.NotNull(next);
            results.Add(next);
        }
        return results;
    }

    [Fact]
    public void Records_come_back_in_order_with_key_value_and_timestamp()
    {
        var transport = Log(Build(0, 10), Build(10, 5));
        using var consumer = new Consumer(new ConsumerConfig(), transport);
        consumer.Assign([new TopicPartitionOffset("t", 0, 0)]);
        var results = ConsumeAll(consumer, 15);
        Assert.Equal(Enumerable.Range(0, 15).Select(i => (long)i), results.Select(r => r.Offset));
        Assert.Equal("k3", Text(results[3].Key));
        Assert.Equal("v3", Text(results[3].Value));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_003), results[3].Timestamp);
        Assert.Equal(15, consumer.Position(new TopicPartition("t", 0)));
        Assert.Null(consumer.Consume(TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public void A_fetch_starting_mid_batch_skips_the_records_below_the_position()
    {
        var transport = Log(Build(0, 10), Build(10, 5));
        using var consumer = new Consumer(new ConsumerConfig(), transport);
        consumer.Assign([new TopicPartitionOffset("t", 0, 7)]);
        var results = ConsumeAll(consumer, 8);
        Assert.Equal(Enumerable.Range(7, 8).Select(i => (long)i), results.Select(r => r.Offset));
        var firstFetch = transport.Requests.OfType<FetchRequest>().First();
        Assert.Equal(7, firstFetch.Offset);
    }

    [Fact]
    public void Beginning_and_End_are_resolved_with_ListOffsets()
    {
        var transport = Log(Build(0, 10));
        using var consumer = new Consumer(new ConsumerConfig(), transport);
        consumer.Assign([new TopicPartitionOffset("t", 0, Offset.End)]);
        Assert.Equal(10, consumer.Position(new TopicPartition("t", 0)));
        Assert.Contains(transport.Requests, r => r is ListOffsetsRequest { Timestamp: OffsetSpec.Latest });

        consumer.Seek(new TopicPartitionOffset("t", 0, Offset.Beginning));
        Assert.Equal(0, consumer.Consume(Wait)!.Offset);
        Assert.Contains(transport.Requests, r => r is ListOffsetsRequest { Timestamp: OffsetSpec.Earliest });
    }

    [Fact]
    public void OffsetOutOfRange_is_thrown_with_the_servers_message_until_the_consumer_seeks()
    {
        var transport = Log(Build(0, 10));
        using var consumer = new Consumer(new ConsumerConfig(), transport);
        consumer.Assign([new TopicPartitionOffset("t", 0, 50)]);
        var error = Assert.Throws<BrokerException>(() => consumer.Consume(Wait));
        Assert.Equal(ErrorCode.OffsetOutOfRange, error.Error);
        Assert.Contains("valid offsets are 0 (log start) to 10 (log end)", error.Message);
        Assert.Equal(ErrorCode.OffsetOutOfRange, Assert.Throws<BrokerException>(() => consumer.Consume(TimeSpan.Zero)).Error);

        consumer.Seek(new TopicPartitionOffset("t", 0, 9));
        Assert.Equal(9, consumer.Consume(Wait)!.Offset);
    }

    [Fact]
    public void Prefetch_keeps_one_fetch_ahead_and_stops_when_the_buffer_is_full()
    {
        var transport = Log(Build(0, 100), Build(100, 100), Build(200, 100));
        // Each fetch returns everything from its offset: the first fills the buffer, so no second fetch until it is read.
        using var consumer = new Consumer(new ConsumerConfig { FetchMaxBytes = 100 }, transport);
        consumer.Assign([new TopicPartitionOffset("t", 0, 0)]);
        Assert.Equal(0, consumer.Consume(Wait)!.Offset);
        var fetches = transport.Requests.OfType<FetchRequest>().Select(f => f.Offset).ToList();
        // The first response was taken for reading, so the next fetch (from its end) is already in flight.
        Assert.Equal([0L, 300L], fetches);
        var rest = ConsumeAll(consumer, 299);
        Assert.Equal(299, rest[^1].Offset);
    }

    [Fact]
    public void Partitions_are_served_round_robin()
    {
        var transport = Log(Build(0, 3));
        using var consumer = new Consumer(new ConsumerConfig(), transport);
        consumer.Assign([new TopicPartitionOffset("a", 0, 0), new TopicPartitionOffset("b", 0, 0)]);
        var results = ConsumeAll(consumer, 6);
        Assert.Equal(3, results.Count(r => r.Topic == "a"));
        Assert.Equal(3, results.Count(r => r.Topic == "b"));
        Assert.Equal([new TopicPartition("a", 0), new TopicPartition("b", 0)], consumer.Assignment);
    }

    [Fact]
    public async Task ConsumeAllAsync_yields_records_and_ends_when_cancelled()
    {
        var transport = Log(Build(0, 5));
        await using var consumer = new Consumer(new ConsumerConfig(), transport);
        consumer.Assign([new TopicPartitionOffset("t", 0, 0)]);
        using var cts = new CancellationTokenSource();
        var seen = new List<long>();
        await foreach (var record in consumer.ConsumeAllAsync(cts.Token))
        {
            seen.Add(record.Offset);
            if (seen.Count == 5) cts.CancelAfter(100);
        }
        Assert.Equal([0L, 1L, 2L, 3L, 4L], seen);
    }

    [Fact]
    public void A_batch_whose_CRC_does_not_match_fails_with_CorruptRecord()
    {
        var corrupt = Build(0, 3);
        corrupt[^1] ^= 0xFF; // flip a bit of the last record: the CRC no longer matches
        using var consumer = new Consumer(new ConsumerConfig(), Log(corrupt));
        consumer.Assign([new TopicPartitionOffset("t", 0, 0)]);
        var error = Assert.Throws<BrokerException>(() => consumer.Consume(Wait));
        Assert.Equal(ErrorCode.CorruptRecord, error.Error);
        Assert.Contains("t/0 at offset 0", error.Message);
        Assert.Equal(0, consumer.Position(new TopicPartition("t", 0)));
    }

    [Fact]
    public void Unassigned_partitions_cannot_be_sought_and_bad_offsets_are_refused()
    {
        using var consumer = new Consumer(new ConsumerConfig(), Log(Build(0, 1)));
        Assert.Throws<InvalidOperationException>(() => consumer.Seek(new TopicPartitionOffset("t", 0, 0)));
        Assert.Throws<InvalidOperationException>(() => consumer.Position(new TopicPartition("t", 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => consumer.Assign([new TopicPartitionOffset("t", 0, -5)]));
        Assert.Throws<ArgumentException>(() => consumer.Assign([new TopicPartitionOffset("t", 0, 0), new TopicPartitionOffset("t", 0, 1)]));
    }
}
