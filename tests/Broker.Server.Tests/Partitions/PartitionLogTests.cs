using Broker.Protocol;
using Broker.Protocol.Messages;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Partitions;

/// <summary>Produce, fetch and offsets through a real node (gateway -> shard region -> partition -> SQLite journal).</summary>
public sealed class PartitionLogTests(ITestOutputHelper output) : NodeTestKit(output)
{
    [Fact]
    public void Produced_batches_get_contiguous_offsets_and_fetch_returns_them_in_order()
    {
        CreateTopic("orders", 2);
        Assert.Equal(0, Produce("orders", 1, Batch(3, "a")).BaseOffset);
        Assert.Equal(3, Produce("orders", 1, Batch(2, "b")).BaseOffset);
        Assert.Equal(0, Produce("orders", 0, Batch(1, "c")).BaseOffset);

        var fetched = Request<FetchResponse>(new FetchRequest("orders", 1, 0, 1 << 20, 0));
        Assert.Equal(ErrorCode.None, fetched.Error);
        Assert.Equal(5, fetched.HighWatermark);
        var records = Records(fetched.Records);
        Assert.Equal([0L, 1, 2, 3, 4], records.Select(r => r.Offset));
        Assert.Equal(["a0", "a1", "a2", "b0", "b1"], records.Select(r => Text(r.Value)));
    }

    [Fact]
    public void One_produce_request_can_carry_batches_for_many_partitions()
    {
        CreateTopic("multi", 3);
        var response = Request<ProduceResponse>(new ProduceRequest(1, 10_000,
        [
            new ProducePartitionData("multi", 0, Batch(2)),
            new ProducePartitionData("multi", 2, Batch(4)),
            new ProducePartitionData("multi", 0, Batch(1)),
        ]));
        Assert.All(response.Results, r => Assert.Equal(ErrorCode.None, r.Error));
        Assert.Equal([0L, 0, 2], response.Results.Select(r => r.BaseOffset));
    }

    [Fact]
    public void Fetch_in_the_middle_of_a_batch_returns_the_whole_batch()
    {
        CreateTopic("mid", 1);
        Produce("mid", 0, Batch(10));
        var fetched = Request<FetchResponse>(new FetchRequest("mid", 0, 7, 1 << 20, 0));
        Assert.Equal(0, Records(fetched.Records)[0].Offset);
    }

    [Fact]
    public void Fetch_respects_max_bytes_but_always_returns_one_batch()
    {
        CreateTopic("sized", 1);
        for (var i = 0; i < 5; i++) Produce("sized", 0, Batch(10, valueSize: 1000));
        var one = Request<FetchResponse>(new FetchRequest("sized", 0, 0, 100, 0));
        Assert.Equal(10, Records(one.Records).Count);
        var three = Request<FetchResponse>(new FetchRequest("sized", 0, 0, 3 * 10_300, 0));
        Assert.Equal(30, Records(three.Records).Count);
    }

    [Fact]
    public void Fetch_above_log_end_returns_OffsetOutOfRange_naming_the_valid_range()
    {
        CreateTopic("range", 1);
        Produce("range", 0, Batch(4));
        var fetched = Request<FetchResponse>(new FetchRequest("range", 0, 5, 1 << 20, 0));
        Assert.Equal(ErrorCode.OffsetOutOfRange, fetched.Error);
        Assert.Contains("0 (log start) to 4 (high watermark)", fetched.ErrorMessage);
        Assert.Equal(ErrorCode.OffsetOutOfRange, Request<FetchResponse>(new FetchRequest("range", 0, -1, 1 << 20, 0)).Error);
    }

    [Fact]
    public void Long_poll_fetch_at_log_end_is_answered_when_a_batch_arrives()
    {
        CreateTopic("poll", 1);
        var probe = CreateTestProbe();
        Gateway.Tell(new FetchRequest("poll", 0, 0, 1 << 20, 20_000), probe.Ref);
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Produce("poll", 0, Batch(2, "late"));
        var fetched = probe.ExpectMsg<FetchResponse>(TimeSpan.FromSeconds(10));
        Assert.Equal(["late0", "late1"], Records(fetched.Records).Select(r => Text(r.Value)));
    }

    [Fact]
    public void Long_poll_fetch_returns_empty_after_max_wait()
    {
        CreateTopic("idle", 1);
        var fetched = Request<FetchResponse>(new FetchRequest("idle", 0, 0, 1 << 20, 200));
        Assert.Equal(ErrorCode.None, fetched.Error);
        Assert.Equal(0, fetched.Records.Length);
    }

    [Fact]
    public void ListOffsets_finds_earliest_latest_and_by_timestamp()
    {
        CreateTopic("times", 1);
        Produce("times", 0, Batch(5, timestamp: 1000));   // timestamps 1000..1004, offsets 0..4
        Produce("times", 0, Batch(5, timestamp: 2000));   // timestamps 2000..2004, offsets 5..9
        Assert.Equal(0, Request<ListOffsetsResponse>(new ListOffsetsRequest("times", 0, OffsetSpec.Earliest)).Offset);
        Assert.Equal(10, Request<ListOffsetsResponse>(new ListOffsetsRequest("times", 0, OffsetSpec.Latest)).Offset);
        Assert.Equal(3, Request<ListOffsetsResponse>(new ListOffsetsRequest("times", 0, 1003)).Offset);
        Assert.Equal(5, Request<ListOffsetsResponse>(new ListOffsetsRequest("times", 0, 1500)).Offset);
        Assert.Equal(-1, Request<ListOffsetsResponse>(new ListOffsetsRequest("times", 0, 9999)).Offset);
        Assert.Equal(ErrorCode.InvalidRequest, Request<ListOffsetsResponse>(new ListOffsetsRequest("times", 0, -7)).Error);
    }

    [Fact]
    public void Corrupt_batch_gets_CorruptRecord_and_the_partition_keeps_serving()
    {
        CreateTopic("crc", 1);
        var batch = Batch(3);
        batch[^1] ^= 0xFF;
        var result = Produce("crc", 0, batch);
        Assert.Equal(ErrorCode.CorruptRecord, result.Error);
        Assert.Contains("CRC", result.ErrorMessage);
        Assert.Equal(0, Produce("crc", 0, Batch(2)).BaseOffset);
    }

    [Fact]
    public void Batch_over_max_message_bytes_gets_RecordTooLarge()
    {
        CreateTopic("small", 1, new() { ["max.message.bytes"] = "1000" });
        var result = Produce("small", 0, Batch(1, valueSize: 2000));
        Assert.Equal(ErrorCode.RecordTooLarge, result.Error);
        Assert.Contains("max.message.bytes", result.ErrorMessage);
        Assert.Equal(0, Produce("small", 0, Batch(1, valueSize: 100)).BaseOffset);
    }

    [Fact]
    public void Acks_zero_gets_no_reply_but_the_batch_is_stored()
    {
        CreateTopic("fire", 1);
        var probe = CreateTestProbe();
        Gateway.Tell(new ProduceRequest(0, 10_000, [new ProducePartitionData("fire", 0, Batch(3))]), probe.Ref);
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        // The partition's first leader is elected on this first request: under load that takes seconds.
        AwaitAssert(() => Assert.Equal(3, Request<ListOffsetsResponse>(new ListOffsetsRequest("fire", 0, OffsetSpec.Latest)).Offset), TimeSpan.FromSeconds(15));
    }
}
