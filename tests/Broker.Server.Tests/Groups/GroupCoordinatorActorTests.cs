using Akka.Actor;
using Akka.TestKit;
using Broker.Protocol;
using Broker.Protocol.Groups;
using Broker.Protocol.Messages;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Groups;

/// <summary>
/// The group coordinator actor's wiring through a real node's gateway (its __consumer_offsets partitions in a real SQLite journal): joins parked
/// until the rebalance completes, heartbeats, describe, topic growth from the registry, gateway errors, listing,
/// and recovery after a restart. The rules themselves are tested on the plain class in GroupCoordinatorTests.
/// </summary>
public sealed class GroupCoordinatorActorTests(ITestOutputHelper output) : NodeTestKit(output, FastGroups)
{
    internal const string FastGroups = """
        broker.groups.initial-rebalance-delay = 0s
        broker.groups.tick-interval = 100ms
        """;

    private static readonly TimeSpan Long = TimeSpan.FromSeconds(15);

    // ---- helpers ----

    private static JoinGroupRequest JoinRequest(string group, string memberId, string[] topics, string assignor = "range", int sessionMs = 3000) =>
        GroupRequests.Join(group, memberId, topics, assignor, sessionMs);

    /// <summary>Sends a join from a fresh probe, so several members can wait for the same rebalance.</summary>
    private TestProbe SendJoin(JoinGroupRequest request)
    {
        var probe = CreateTestProbe();
        Gateway.Tell(request, probe.Ref);
        return probe;
    }

    private static JoinGroupResponse JoinOk(TestProbe probe)
    {
        var joined = probe.ExpectMsg<JoinGroupResponse>(Long);
        Assert.True(joined.Error == ErrorCode.None, $"{joined.Error}: {joined.ErrorMessage}");
        return joined;
    }

    private static JoinGroupResponse JoinOk2(TestProbe probe) => probe.ExpectMsg<JoinGroupResponse>(Long);

    private IReadOnlyList<TopicPartition> SyncOk(string group, JoinGroupResponse joined)
    {
        var synced = Request<SyncGroupResponse>(new SyncGroupRequest(group, joined.GenerationId, joined.MemberId, []));
        Assert.True(synced.Error == ErrorCode.None, $"{synced.Error}: {synced.ErrorMessage}");
        return ConsumerProtocol.DecodeAssignment(synced.Assignment);
    }

    private (JoinGroupResponse Joined, IReadOnlyList<TopicPartition> Assignment) JoinAlone(string group, string[] topics, string assignor = "range", int sessionMs = 3000)
    {
        var joined = JoinOk(SendJoin(JoinRequest(group, "", topics, assignor, sessionMs)));
        return (joined, SyncOk(group, joined));
    }

    private static List<TopicPartition> All(string topic, int partitions) => GroupRequests.All(topic, partitions);

    // ---- join, sync, heartbeat, leave ----

    [Fact]
    public void A_single_member_gets_generation_1_and_every_partition()
    {
        CreateTopic("orders", 4);
        var (joined, assignment) = JoinAlone("g1", ["orders"]);

        Assert.Equal(1, joined.GenerationId);
        Assert.Equal(joined.MemberId, joined.LeaderId);
        Assert.Equal("range", joined.ProtocolName);
        Assert.Equal(All("orders", 4), assignment);
        Assert.Equal(ErrorCode.None, Request<HeartbeatResponse>(new HeartbeatRequest("g1", 1, joined.MemberId)).Error);
        var described = Request<DescribeGroupResponse>(new DescribeGroupRequest("g1"));
        Assert.Equal("Stable", described.State);
        Assert.Equal(All("orders", 4), Assert.Single(described.Members).Assignment);
    }

    [Fact]
    public void A_second_member_triggers_a_rebalance_that_splits_the_partitions()
    {
        CreateTopic("split", 6);
        var (first, _) = JoinAlone("g2", ["split"]);

        var secondProbe = SendJoin(JoinRequest("g2", "", ["split"]));
        // The first member learns of the rebalance from its heartbeat, then rejoins.
        var heartbeat = Request<HeartbeatResponse>(new HeartbeatRequest("g2", first.GenerationId, first.MemberId));
        Assert.Equal(ErrorCode.RebalanceInProgress, heartbeat.Error);
        var firstAgain = JoinOk(SendJoin(JoinRequest("g2", first.MemberId, ["split"])));
        var second = JoinOk(secondProbe);

        Assert.Equal(2, firstAgain.GenerationId);
        Assert.Equal(2, second.GenerationId);
        var a = SyncOk("g2", firstAgain);
        var b = SyncOk("g2", second);
        Assert.Equal(3, a.Count);
        Assert.Equal(3, b.Count);
        Assert.Equal(All("split", 6), a.Concat(b).OrderBy(p => p.Partition).ToList());

        // The old generation is fenced.
        Assert.Equal(ErrorCode.IllegalGeneration, Request<HeartbeatResponse>(new HeartbeatRequest("g2", 1, first.MemberId)).Error);
    }

    [Fact]
    public void A_subscribed_topic_that_is_created_later_triggers_a_rebalance()
    {
        CreateTopic("first-topic", 1);
        var (joined, assignment) = JoinAlone("g5", ["first-topic", "later-topic"]);
        Assert.Equal(All("first-topic", 1), assignment);

        CreateTopic("later-topic", 2);
        AwaitAssert(() => Assert.Equal(ErrorCode.RebalanceInProgress,
            Request<HeartbeatResponse>(new HeartbeatRequest("g5", joined.GenerationId, joined.MemberId)).Error), Long);
        var rejoined = JoinOk(SendJoin(JoinRequest("g5", joined.MemberId, ["first-topic", "later-topic"])));
        Assert.Equal(3, SyncOk("g5", rejoined).Count);
    }

    [Fact]
    public void Bad_session_timeouts_and_unknown_members_get_typed_errors()
    {
        var tooShort = JoinOk2(SendJoin(JoinRequest("g7", "", ["x"], sessionMs: 10)));
        Assert.Equal(ErrorCode.InvalidSessionTimeout, tooShort.Error);
        var unknown = JoinOk2(SendJoin(JoinRequest("g7", "nobody", ["x"])));
        Assert.Equal(ErrorCode.UnknownMemberId, unknown.Error);
        Assert.Equal(ErrorCode.InvalidGroupId, Request<ErrorResponse>(new HeartbeatRequest("", 1, "m")).Error);
    }

    // ---- offsets ----

    [Fact]
    public void An_unknown_group_is_described_as_UnknownGroup_and_has_no_offsets()
    {
        var described = Request<DescribeGroupResponse>(new DescribeGroupRequest("never-existed"));
        Assert.Equal(ErrorCode.UnknownGroup, described.Error);
        Assert.Contains("broker groups list", described.ErrorMessage);
        Assert.Equal(ErrorCode.UnknownGroup, Request<HeartbeatResponse>(new HeartbeatRequest("never-existed", 1, "m")).Error);
        var offsets = Request<OffsetFetchResponse>(new OffsetFetchRequest("never-existed", [new("t", 0)]));
        Assert.Equal(-1, Assert.Single(offsets.Offsets).Offset);
    }

    [Fact]
    public void An_empty_group_accepts_offsets_set_from_outside_and_is_listed()
    {
        CreateTopic("reset", 2);
        var set = Request<OffsetCommitResponse>(new OffsetCommitRequest("g10", -1, "", [new OffsetCommitPartition("reset", 1, 42, null)]));
        Assert.Equal(ErrorCode.None, set.Error);
        var fetched = Request<OffsetFetchResponse>(new OffsetFetchRequest("g10", null));
        Assert.Equal(42, Assert.Single(fetched.Offsets).Offset);

        var listed = Request<ListGroupsResponse>(new ListGroupsRequest());
        var listing = Assert.Single(listed.Groups, g => g.GroupId == "g10");
        Assert.Equal("Empty", listing.State);
    }

    [Fact]
    public async Task Generation_members_and_committed_offsets_survive_a_node_restart()
    {
        var dir = NewDataDir();
        var first = ActorSystem.Create("broker", NodeConfigFor(dir, FastGroups));
        var gateway = StartNode(first);
        Assert.Equal(ErrorCode.None, Request<CreateTopicsResponse>(gateway, new CreateTopicsRequest([new TopicSpec("durable", 3, 1, new Dictionary<string, string>())]), system: first).Results[0].Error);
        var probe = CreateTestProbe(first);
        gateway.Tell(JoinRequest("g11", "", ["durable"], sessionMs: 10_000), probe.Ref);
        var joined = probe.ExpectMsg<JoinGroupResponse>(Long);
        // Several commits, each one batch in the group's __consumer_offsets partition, read back in order after the restart.
        for (var i = 1; i <= 5; i++)
        {
            var committed = Request<OffsetCommitResponse>(gateway, new OffsetCommitRequest("g11", joined.GenerationId, joined.MemberId,
                [new OffsetCommitPartition("durable", i % 3, i * 100, null)]), system: first);
            Assert.Equal(ErrorCode.None, committed.Error);
        }
        await first.Terminate().WaitAsync(Long);

        var second = ActorSystem.Create("broker", NodeConfigFor(dir, FastGroups));
        try
        {
            var gateway2 = StartNode(second);
            var fetched = Request<OffsetFetchResponse>(gateway2, new OffsetFetchRequest("g11", null), system: second);
            Assert.Equal([300L, 400L, 500L], fetched.Offsets.Select(o => o.Offset).ToArray());
            // The member resumes its generation with a heartbeat: no rebalance needed.
            var beat = Request<HeartbeatResponse>(gateway2, new HeartbeatRequest("g11", joined.GenerationId, joined.MemberId), system: second);
            Assert.Equal(ErrorCode.None, beat.Error);
            var described = Request<DescribeGroupResponse>(gateway2, new DescribeGroupRequest("g11"), system: second);
            Assert.Equal(joined.GenerationId, described.GenerationId);
            Assert.Equal(3, Assert.Single(described.Members).Assignment.Count);
        }
        finally
        {
            await second.Terminate().WaitAsync(Long);
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
