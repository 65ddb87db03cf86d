using Broker.Protocol;
using Broker.Protocol.Messages;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Partitions;

/// <summary>KIP-320 on a real node: a fetch names the leader epoch its client saw, and a mismatch is refused with the side that is stale.</summary>
public sealed class LeaderEpochFencingTests(ITestOutputHelper output) : NodeTestKit(output)
{
    [Fact]
    public void A_fetch_with_an_older_epoch_is_fenced_a_newer_one_is_refused_and_the_current_one_reads()
    {
        CreateTopic("epochs", 1);
        Assert.Equal(ErrorCode.None, Produce("epochs", 0, Batch(3)).Error);
        var first = Request<FetchResponse>(new FetchRequest("epochs", 0, 0, 1 << 20, 0));
        Assert.Equal(ErrorCode.None, first.Error);
        var epoch = first.LeaderEpoch;
        Assert.True(epoch >= 1, $"the partition's first leader epoch is {epoch}");

        var current = Request<FetchResponse>(new FetchRequest("epochs", 0, 0, 1 << 20, 0) { CurrentLeaderEpoch = epoch });
        Assert.Equal(ErrorCode.None, current.Error);
        Assert.Equal(3, Records(current.Records).Count);

        var stale = Request<FetchResponse>(new FetchRequest("epochs", 0, 0, 1 << 20, 0) { CurrentLeaderEpoch = epoch - 1 });
        Assert.Equal(ErrorCode.FencedLeaderEpoch, stale.Error);
        Assert.Contains("refreshes and retries", stale.ErrorMessage);
        Assert.True(stale.Records.IsEmpty);

        var ahead = Request<FetchResponse>(new FetchRequest("epochs", 0, 0, 1 << 20, 0) { CurrentLeaderEpoch = epoch + 1 });
        Assert.Equal(ErrorCode.NotLeader, ahead.Error);
        Assert.True(ahead.Records.IsEmpty);
    }

    [Fact]
    public void A_client_rack_with_no_replica_there_reads_from_the_leader()
    {
        CreateTopic("racks", 1);
        Assert.Equal(ErrorCode.None, Produce("racks", 0, Batch(2)).Error);
        var fetched = Request<FetchResponse>(new FetchRequest("racks", 0, 0, 1 << 20, 0) { ClientRack = "elsewhere" });
        Assert.Equal(ErrorCode.None, fetched.Error);
        Assert.Equal(2, Records(fetched.Records).Count);
    }
}
