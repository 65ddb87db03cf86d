using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Partitions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Server.Tests.Partitions;

/// <summary>One refusal for every partition request, carrying the same error and text.</summary>
public sealed class PartitionRepliesTests
{
    private readonly PartitionReplies _replies;

    public PartitionRepliesTests()
    {
        var log = TestBatches.Log(new FakeTimeProvider(TestBatches.Now), 10, 0);
        log.AdvanceHighWatermark(7);
        _replies = new PartitionReplies("t", 0, 3, "akka.tcp://broker@h:1", log, () => new ReplicaRole(false, 4, 5));
    }

    public static TheoryData<object> Requests() =>
    [
        new AppendBatch("t", 0, "id", -1, ReadOnlyMemory<byte>.Empty),
        new FetchRequest("t", 0, 0, 1024, 0),
        new ListOffsetsRequest("t", 0, -1),
        new DeleteRecordsRequest("t", 0, 1),
        new OffsetForLeaderEpochRequest("t", 0, -1, 1),
        new DescribeProducersRequest("t", 0),
        new GetPartitionInfo("t", 0),
        new ReplicaFetch("t", 0, "id", 2, 9, 0, -1, 1024, 500),
    ];

    [Theory]
    [MemberData(nameof(Requests))]
    public void Every_partition_request_is_refused_with_the_error_and_text_given(object request)
    {
        var text = _replies.NotLeaderText("it follows");
        var reply = _replies.Refusal(request, ErrorCode.NotLeader, text);
        Assert.NotNull(reply);
        var error = reply!.GetType().GetProperty("Error")!.GetValue(reply);
        var message = reply.GetType().GetProperty("ErrorMessage")!.GetValue(reply);
        Assert.Equal(ErrorCode.NotLeader, error);
        Assert.Equal(text, message);
        Assert.Contains("node 3 does not lead t/0 (it follows)", text);
    }

    [Fact]
    public void A_refused_fetch_carries_the_high_watermark_and_the_serving_epoch()
    {
        var reply = Assert.IsType<FetchResponse>(_replies.Refusal(new FetchRequest("t", 0, 0, 1024, 0), ErrorCode.NotLeader, "x"));
        Assert.Equal(7, reply.HighWatermark);
        Assert.Equal(5, reply.LeaderEpoch);
    }

    [Fact]
    public void A_message_that_is_not_a_partition_request_gets_no_reply()
    {
        Assert.Null(_replies.Refusal("tick", ErrorCode.NotLeader, "x"));
    }

    [Fact]
    public void A_client_ahead_of_the_replica_gets_NotLeader_and_one_behind_it_gets_FencedLeaderEpoch()
    {
        var request = new OffsetForLeaderEpochRequest("t", 0, 6, 2);
        Assert.Null(_replies.EpochMismatch(request, clientEpoch: 5, servingEpoch: 5));
        Assert.Null(_replies.EpochMismatch(request, clientEpoch: -1, servingEpoch: 5));
        Assert.Equal(ErrorCode.NotLeader, Assert.IsType<OffsetForLeaderEpochResponse>(_replies.EpochMismatch(request, 6, 5)).Error);
        var fenced = Assert.IsType<FetchResponse>(_replies.EpochMismatch(new FetchRequest("t", 0, 0, 1024, 0), 4, 5));
        Assert.Equal(ErrorCode.FencedLeaderEpoch, fenced.Error);
    }
}
