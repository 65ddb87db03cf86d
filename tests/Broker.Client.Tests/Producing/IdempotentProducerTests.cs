using Broker.Client.Tests.Fakes;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Xunit;
using static Broker.Client.Tests.Fakes.Batches;

namespace Broker.Client.Tests.Producing;

/// <summary>
/// The idempotent producer (on by default with acks=all): a producer id and per-partition sequences on every
/// batch, and retries of retriable failures that send the very same bytes, so the partition can recognise them.
/// </summary>
public sealed class IdempotentProducerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static RecordBatchHeader Header(ProduceRequest request, int index = 0)
    {
        Assert.True(RecordBatch.TryReadHeader(request.Partitions[index].Batch.Span, out var header));
        return header;
    }

    private static ProduceResponse Failed(ProduceRequest request, ErrorCode error, string message) =>
        new(request.Partitions.Select(p => new ProducePartitionResult(p.Topic, p.Partition, error, message, -1)).ToList());

    /// <summary>Answers every request from number <paramref name="from"/> on, as it comes, until <paramref name="done"/> completes.</summary>
    private static void ReplyToEachUntil(FakeTransport transport, int from, Task done)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!done.IsCompleted && DateTime.UtcNow < deadline)
        {
            if (transport.WaitForProduced(from + 1, TimeSpan.FromMilliseconds(20))) transport.Reply(from++);
        }
    }

    [Fact]
    public async Task Batches_carry_the_producer_id_and_each_partitions_own_sequence()
    {
        var transport = new FakeTransport().WithTopic("t", 2);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 0, MaxInFlight = 1 }, transport);
        for (var round = 0; round < 2; round++)
        {
            await Task.WhenAll(
                producer.ProduceAsync("t", 0, new Message { Value = Bytes("a") }),
                producer.ProduceAsync("t", 0, new Message { Value = Bytes("b") }),
                producer.ProduceAsync("t", 1, new Message { Value = Bytes("c") })).WaitAsync(Wait);
        }

        Assert.Single(transport.Requests.OfType<InitProducerIdRequest>());
        var sent = transport.Produced.SelectMany(r => Enumerable.Range(0, r.Partitions.Count).Select(i => (r.Partitions[i].Partition, Header: Header(r, i)))).ToList();
        Assert.All(sent, s => Assert.Equal((1000L, (short)0), (s.Header.ProducerId, s.Header.ProducerEpoch)));
        // Each partition numbers its records from 0, batch after batch.
        foreach (var partition in new[] { 0, 1 })
        {
            var expected = 0;
            foreach (var (_, header) in sent.Where(s => s.Partition == partition))
            {
                Assert.Equal(expected, header.BaseSequence);
                expected += header.RecordCount;
            }
            Assert.Equal(partition == 0 ? 4 : 2, expected);
        }
    }

    [Theory]
    [InlineData(ErrorCode.NotLeader)]
    [InlineData(ErrorCode.LeaderNotAvailable)]
    [InlineData(ErrorCode.NotEnoughReplicas)]
    [InlineData(ErrorCode.RequestTimedOut)]
    public async Task A_retriable_error_is_retried_with_the_same_bytes_and_the_caller_sees_only_the_success(ErrorCode error)
    {
        var transport = new FakeTransport { AutoReply = false }.WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 0, RetryBackoffMs = 10 }, transport);
        var result = producer.ProduceAsync("t", new Message { Value = Bytes("once") });
        Assert.True(transport.WaitForProduced(1, Wait));
        transport.Reply(0, r => Failed(r, error, "the leader moved"));

        Assert.True(transport.WaitForProduced(2, Wait));
        transport.Reply(1);
        Assert.Equal(0, (await result.WaitAsync(Wait)).Offset);
        var first = transport.Produced[0].Partitions[0].Batch.ToArray();
        Assert.Equal(first, transport.Produced[1].Partitions[0].Batch.ToArray());
        Assert.Equal(0, Header(transport.Produced[1]).BaseSequence);
    }

    [Fact]
    public async Task A_lost_reply_is_retried()
    {
        var transport = new FakeTransport { AutoReply = false }.WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 0, RetryBackoffMs = 10 }, transport);
        var result = producer.ProduceAsync("t", new Message { Value = Bytes("v") });
        Assert.True(transport.WaitForProduced(1, Wait));
        transport.Fail(0, new BrokerException(ErrorCode.RequestTimedOut, "no reply within 30s"));
        Assert.True(transport.WaitForProduced(2, Wait));
        transport.Reply(1);
        Assert.Equal(0, (await result.WaitAsync(Wait)).Offset);
    }

    [Fact]
    public async Task A_partition_sends_nothing_newer_until_its_retry_went_and_offsets_stay_in_order()
    {
        var transport = new FakeTransport { AutoReply = false }.WithTopic("t", 1);
        // One request at a time: the second record waits for the slot, which frees while the first waits out its
        // back-off; only the partition's muting keeps it from overtaking the retry then.
        await using var producer = new Producer(new ProducerConfig { LingerMs = 0, RetryBackoffMs = 300, MaxInFlight = 1 }, transport);
        var first = producer.ProduceAsync("t", new Message { Value = Bytes("first") });
        Assert.True(transport.WaitForProduced(1, Wait));
        var second = producer.ProduceAsync("t", new Message { Value = Bytes("second") });
        transport.Reply(0, r => Failed(r, ErrorCode.NotLeader, "moved"));

        // Whatever requests carry them, the retry leaves before the newer record, with their sequences in order.
        ReplyToEachUntil(transport, 1, second);
        var resent = transport.Produced.Skip(1).SelectMany(r => Enumerable.Range(0, r.Partitions.Count).Select(i => Header(r, i).BaseSequence)).ToList();
        Assert.Equal(["first", "second"], Sent(transport.Produced.Skip(1)).SelectMany(b => b.Values));
        Assert.Equal([0, 1], resent);
        Assert.Equal(0, (await first.WaitAsync(Wait)).Offset);
        Assert.Equal(1, (await second.WaitAsync(Wait)).Offset);
    }

    [Fact]
    public async Task A_batch_refused_out_of_order_behind_a_retried_one_is_retried_after_it()
    {
        var transport = new FakeTransport { AutoReply = false }.WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 0, RetryBackoffMs = 10, BatchSize = 900, MaxRequestSize = 1024 }, transport);
        var a = producer.ProduceAsync("t", new Message { Value = new byte[800] });
        Assert.True(transport.WaitForProduced(1, Wait));
        var b = producer.ProduceAsync("t", new Message { Value = new byte[800] });
        Assert.True(transport.WaitForProduced(2, Wait));
        // The old leader died with the first; the new one refuses the second, which does not follow what it has.
        transport.Reply(0, r => Failed(r, ErrorCode.NotLeader, "moved"));
        transport.Reply(1, r => Failed(r, ErrorCode.OutOfOrderSequence, "does not follow"));

        // Both go again, the older first, in one request or two.
        ReplyToEachUntil(transport, 2, b);
        var resent = transport.Produced.Skip(2).SelectMany(r => Enumerable.Range(0, r.Partitions.Count).Select(i => Header(r, i).BaseSequence));
        Assert.Equal([0, 1], resent);
        Assert.Equal(0, (await a.WaitAsync(Wait)).Offset);
        Assert.Equal(1, (await b.WaitAsync(Wait)).Offset);
    }

    [Fact]
    public async Task Retries_stop_at_the_delivery_timeout_and_the_error_says_so()
    {
        var transport = new FakeTransport { AutoReply = false }.WithTopic("t", 1);
        var config = new ProducerConfig { LingerMs = 0, RetryBackoffMs = 50, RequestTimeout = TimeSpan.FromMilliseconds(300), DeliveryTimeout = TimeSpan.FromMilliseconds(300) };
        await using var producer = new Producer(config, transport);
        var result = producer.ProduceAsync("t", new Message { Value = Bytes("v") });
        var replied = 0;
        var error = await Assert.ThrowsAsync<BrokerException>(async () =>
        {
            var pending = result;
            while (!pending.IsCompleted)
            {
                if (transport.WaitForProduced(replied + 1, TimeSpan.FromMilliseconds(100)))
                    transport.Reply(replied++, r => Failed(r, ErrorCode.LeaderNotAvailable, "no in-sync replica is alive"));
            }
            await pending;
        }).WaitAsync(Wait);
        Assert.Equal(ErrorCode.LeaderNotAvailable, error.Error);
        Assert.True(replied >= 2, $"sent {replied} times");
        Assert.Contains("gave up after", error.Message);
    }

    [Fact]
    public async Task A_non_retriable_error_is_not_retried()
    {
        var transport = new FakeTransport { AutoReply = false }.WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 0, RetryBackoffMs = 10 }, transport);
        var result = producer.ProduceAsync("t", new Message { Value = Bytes("v") });
        Assert.True(transport.WaitForProduced(1, Wait));
        transport.Reply(0, r => Failed(r, ErrorCode.CorruptRecord, "CRC mismatch"));
        Assert.Equal(ErrorCode.CorruptRecord, (await Assert.ThrowsAsync<BrokerException>(() => result.WaitAsync(Wait))).Error);
        await producer.FlushAsync().WaitAsync(Wait);
        Assert.Single(transport.Produced);
    }

    [Fact]
    public async Task After_a_sequence_error_the_producer_starts_over_with_a_new_id()
    {
        var transport = new FakeTransport { AutoReply = false }.WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 0 }, transport);
        var lost = producer.ProduceAsync("t", new Message { Value = Bytes("a") });
        Assert.True(transport.WaitForProduced(1, Wait));
        transport.Reply(0, r => Failed(r, ErrorCode.OutOfOrderSequence, "the partition lost this producer's earlier batches"));
        Assert.Equal(ErrorCode.OutOfOrderSequence, (await Assert.ThrowsAsync<BrokerException>(() => lost.WaitAsync(Wait))).Error);

        var next = producer.ProduceAsync("t", new Message { Value = Bytes("b") });
        Assert.True(transport.WaitForProduced(2, Wait));
        transport.Reply(1);
        await next.WaitAsync(Wait);
        var header = Header(transport.Produced[1]);
        Assert.Equal((1001L, 0), (header.ProducerId, header.BaseSequence));
    }

    [Fact]
    public async Task A_numbered_batch_that_fails_for_good_leaves_no_gap_the_next_ones_start_a_new_id()
    {
        // The partition refused it (nothing stored), so its sequence numbers are never filled: continuing after it
        // with the same id would be refused as out of order forever.
        var transport = new FakeTransport { AutoReply = false }.WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 0, RetryBackoffMs = 10, RequestTimeout = TimeSpan.FromSeconds(1), DeliveryTimeout = TimeSpan.FromSeconds(1) }, transport);
        Assert.Equal(0, (await Send(producer, transport, 0, r => new ProduceResponse([new ProducePartitionResult("t", 0, ErrorCode.None, null, 0)]))).Offset);
        var refused = producer.ProduceAsync("t", new Message { Value = Bytes("b") });
        Assert.True(transport.WaitForProduced(2, Wait));
        transport.Reply(1, r => Failed(r, ErrorCode.RecordTooLarge, "too large for the topic"));
        Assert.Equal(ErrorCode.RecordTooLarge, (await Assert.ThrowsAsync<BrokerException>(() => refused.WaitAsync(Wait))).Error);

        await Send(producer, transport, 2, r => new ProduceResponse([new ProducePartitionResult("t", 0, ErrorCode.None, null, 1)]));
        var header = Header(transport.Produced[2]);
        Assert.Equal((1001L, 0), (header.ProducerId, header.BaseSequence));
    }

    private static async Task<DeliveryResult> Send(Producer producer, FakeTransport transport, int index, Func<ProduceRequest, object> reply)
    {
        var result = producer.ProduceAsync("t", new Message { Value = Bytes("v") });
        Assert.True(transport.WaitForProduced(index + 1, Wait));
        transport.Reply(index, reply);
        return await result.WaitAsync(Wait);
    }

    [Fact]
    public async Task No_producer_id_fails_the_records_and_says_how_to_do_without()
    {
        var transport = new FakeTransport { InitProducerId = () => new ErrorResponse(ErrorCode.BrokerNotAvailable, "no node answered") }.WithTopic("t", 1);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 0 }, transport);
        var error = await Assert.ThrowsAsync<BrokerException>(() => producer.ProduceAsync("t", new Message { Value = Bytes("v") }).WaitAsync(Wait));
        Assert.Equal(ErrorCode.BrokerNotAvailable, error.Error);
        Assert.Contains("EnableIdempotence = false", error.Message);
        Assert.Empty(transport.Produced);
    }

    [Fact]
    public async Task Acks_leader_is_not_idempotent_by_default_and_refuses_it_when_asked()
    {
        var transport = new FakeTransport().WithTopic("t", 1);
        await using (var producer = new Producer(new ProducerConfig { LingerMs = 0, Acks = Acks.Leader }, transport))
            await producer.ProduceAsync("t", new Message { Value = Bytes("v") }).WaitAsync(Wait);
        Assert.Equal(-1, Header(Assert.Single(transport.Produced)).ProducerId);
        Assert.DoesNotContain(transport.Requests, r => r is InitProducerIdRequest);

        var refused = Assert.Throws<BrokerException>(() => new Producer(new ProducerConfig { Acks = Acks.Leader, EnableIdempotence = true }, transport));
        Assert.Equal(ErrorCode.InvalidConfig, refused.Error);
        Assert.Contains("Acks.All", refused.Message);
    }
}
