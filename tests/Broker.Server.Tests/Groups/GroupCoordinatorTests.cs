using Akka.Actor;
using Akka.TestKit;
using Broker.Protocol;
using Broker.Protocol.Groups;
using Broker.Protocol.Messages;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Groups;

/// <summary>
/// The group coordinator through a real node's gateway (real SQLite journal):
/// join, sync, heartbeat expiry, leave, generation fencing, offset commits and their errors, topic growth,
/// the classic leader-assigns relay, and recovery after a restart.
/// </summary>
public sealed class GroupCoordinatorTests(ITestOutputHelper output) : NodeTestKit(output, FastGroups)
{
    internal const string FastGroups = """
        broker.groups.initial-rebalance-delay = 0s
        broker.groups.tick-interval = 100ms
        broker.groups.snapshot-every-events = 3
        """;

    private static readonly TimeSpan Long = TimeSpan.FromSeconds(15);

    // ---- helpers ----

    private static JoinGroupRequest JoinRequest(string group, string memberId, string[] topics, string assignor = "range", int sessionMs = 3000, TopicPartitionId[]? owned = null) =>
        new(group, memberId, "test-client", sessionMs, sessionMs, ConsumerProtocol.ProtocolType,
            [new GroupProtocol(assignor, ConsumerProtocol.EncodeSubscription(new ConsumerSubscription(topics, owned ?? [])))]);

    /// <summary>Sends a join from a fresh probe, so several members can wait for the same rebalance.</summary>
    private TestProbe SendJoin(JoinGroupRequest request)
    {
        var probe = CreateTestProbe();
        Gateway.Tell(request, probe.Ref);
        return probe;
    }

    private JoinGroupResponse JoinOk(TestProbe probe)
    {
        var joined = probe.ExpectMsg<JoinGroupResponse>(Long);
        Assert.True(joined.Error == ErrorCode.None, $"{joined.Error}: {joined.ErrorMessage}");
        return joined;
    }

    private IReadOnlyList<TopicPartitionId> SyncOk(string group, JoinGroupResponse joined)
    {
        var synced = Request<SyncGroupResponse>(new SyncGroupRequest(group, joined.GenerationId, joined.MemberId, []));
        Assert.True(synced.Error == ErrorCode.None, $"{synced.Error}: {synced.ErrorMessage}");
        return ConsumerProtocol.DecodeAssignment(synced.Assignment);
    }

    private (JoinGroupResponse Joined, IReadOnlyList<TopicPartitionId> Assignment) JoinAlone(string group, string[] topics, string assignor = "range", int sessionMs = 3000)
    {
        var joined = JoinOk(SendJoin(JoinRequest(group, "", topics, assignor, sessionMs)));
        return (joined, SyncOk(group, joined));
    }

    private static List<TopicPartitionId> All(string topic, int partitions)
    {
        var list = new List<TopicPartitionId>();
        for (var p = 0; p < partitions; p++) list.Add(new TopicPartitionId(topic, p));
        return list;
    }

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
    public void A_member_that_stops_heartbeating_is_removed_after_its_session_timeout()
    {
        CreateTopic("expiry", 4);
        var (alive, _) = JoinAlone("g3", ["expiry"], sessionMs: 2500);
        var silentProbe = SendJoin(JoinRequest("g3", "", ["expiry"], sessionMs: 2500));
        Assert.Equal(ErrorCode.RebalanceInProgress, Request<HeartbeatResponse>(new HeartbeatRequest("g3", 1, alive.MemberId)).Error);
        alive = JoinOk(SendJoin(JoinRequest("g3", alive.MemberId, ["expiry"], sessionMs: 2500)));
        var silent = JoinOk(silentProbe);
        Assert.Equal(2, SyncOk("g3", alive).Count);
        Assert.Equal(2, SyncOk("g3", silent).Count);

        // Only "alive" keeps heartbeating; the coordinator must drop "silent" and ask for a rebalance.
        AwaitAssert(() =>
        {
            var beat = Request<HeartbeatResponse>(new HeartbeatRequest("g3", alive.GenerationId, alive.MemberId));
            Assert.Equal(ErrorCode.RebalanceInProgress, beat.Error);
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));
        var rejoined = JoinOk(SendJoin(JoinRequest("g3", alive.MemberId, ["expiry"], sessionMs: 2500)));
        Assert.Equal(3, rejoined.GenerationId);
        Assert.Equal(All("expiry", 4), SyncOk("g3", rejoined));
        Assert.Equal(ErrorCode.UnknownMemberId, Request<HeartbeatResponse>(new HeartbeatRequest("g3", 3, silent.MemberId)).Error);
    }

    [Fact]
    public void Leaving_hands_the_partitions_over_without_waiting_for_the_session_timeout()
    {
        CreateTopic("leave", 2);
        var (first, _) = JoinAlone("g4", ["leave"], sessionMs: 60_000);
        var secondProbe = SendJoin(JoinRequest("g4", "", ["leave"], sessionMs: 60_000));
        var firstAgain = JoinOk(SendJoin(JoinRequest("g4", first.MemberId, ["leave"], sessionMs: 60_000)));
        var second = JoinOk(secondProbe);
        SyncOk("g4", firstAgain);
        SyncOk("g4", second);

        Assert.Equal(ErrorCode.None, Request<LeaveGroupResponse>(new LeaveGroupRequest("g4", second.MemberId)).Error);
        Assert.Equal(ErrorCode.RebalanceInProgress, Request<HeartbeatResponse>(new HeartbeatRequest("g4", 2, firstAgain.MemberId)).Error);
        var alone = JoinOk(SendJoin(JoinRequest("g4", first.MemberId, ["leave"], sessionMs: 60_000)));
        Assert.Equal(All("leave", 2), SyncOk("g4", alone));

        Assert.Equal(ErrorCode.None, Request<LeaveGroupResponse>(new LeaveGroupRequest("g4", first.MemberId)).Error);
        AwaitAssert(() => Assert.Equal("Empty", Request<DescribeGroupResponse>(new DescribeGroupRequest("g4")).State));
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
    public void Members_with_no_common_assignor_are_refused()
    {
        CreateTopic("mixed", 1);
        JoinAlone("g6", ["mixed"], assignor: "range");
        var refused = JoinOk2(SendJoin(JoinRequest("g6", "", ["mixed"], assignor: "roundrobin")));
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, refused.Error);
        Assert.Contains("partition.assignment.strategy", refused.ErrorMessage);
    }

    private JoinGroupResponse JoinOk2(TestProbe probe) => probe.ExpectMsg<JoinGroupResponse>(Long);

    [Fact]
    public void Bad_session_timeouts_and_unknown_members_get_typed_errors()
    {
        var tooShort = JoinOk2(SendJoin(JoinRequest("g7", "", ["x"], sessionMs: 10)));
        Assert.Equal(ErrorCode.InvalidSessionTimeout, tooShort.Error);
        var unknown = JoinOk2(SendJoin(JoinRequest("g7", "nobody", ["x"])));
        Assert.Equal(ErrorCode.UnknownMemberId, unknown.Error);
        Assert.Equal(ErrorCode.InvalidGroupId, Request<ErrorResponse>(new HeartbeatRequest("", 1, "m")).Error);
    }

    [Fact]
    public void The_classic_protocol_relays_the_leaders_assignment_bytes()
    {
        var join = new JoinGroupRequest("g8", "", "kafka-client", 5000, 5000, "connect", [new GroupProtocol("custom", [1, 2, 3])]);
        var leaderProbe = SendJoin(join);
        var leader = JoinOk(leaderProbe);
        Assert.Equal(leader.MemberId, leader.LeaderId);
        var member = Assert.Single(leader.Members);
        Assert.Equal(new byte[] { 1, 2, 3 }, member.Metadata);

        var synced = Request<SyncGroupResponse>(new SyncGroupRequest("g8", leader.GenerationId, leader.MemberId,
            [new SyncGroupAssignment(leader.MemberId, [9, 8, 7])]));
        Assert.Equal(ErrorCode.None, synced.Error);
        Assert.Equal(new byte[] { 9, 8, 7 }, synced.Assignment);
        Assert.Equal("Stable", Request<DescribeGroupResponse>(new DescribeGroupRequest("g8")).State);
    }

    [Fact]
    public void Cooperative_rebalancing_never_gives_a_partition_two_owners_and_hands_over_in_a_second_round()
    {
        CreateTopic("coop", 4);
        var (first, all) = JoinAlone("g12", ["coop"], assignor: "cooperative-sticky");
        Assert.Equal(4, all.Count);

        // A second member joins; the first rejoins still owning all four.
        var secondProbe = SendJoin(JoinRequest("g12", "", ["coop"], assignor: "cooperative-sticky"));
        Assert.Equal(ErrorCode.RebalanceInProgress, Request<HeartbeatResponse>(new HeartbeatRequest("g12", 1, first.MemberId)).Error);
        var firstJoin = SendJoin(JoinRequest("g12", first.MemberId, ["coop"], assignor: "cooperative-sticky", owned: [.. all]));
        var first2 = JoinOk(firstJoin);
        var second2 = JoinOk(secondProbe);
        Assert.Equal(2, first2.GenerationId);
        var kept = SyncOk("g12", first2);
        var granted = SyncOk("g12", second2);
        // Round one: the first keeps its share, the second gets nothing yet (the rest is still owned).
        Assert.Equal(2, kept.Count);
        Assert.Empty(granted);
        var movingAway = all.Except(kept).ToList();
        // While handing over, the first may still commit what it gives up.
        var handoverCommit = Request<OffsetCommitResponse>(new OffsetCommitRequest("g12", 2, first.MemberId, [new OffsetCommitPartition("coop", movingAway[0].Partition, 3, null)]));
        Assert.Equal(ErrorCode.None, handoverCommit.Results[0].Error);

        // Round two starts by itself once both have their round-one assignment.
        AwaitAssert(() => Assert.Equal(ErrorCode.RebalanceInProgress, Request<HeartbeatResponse>(new HeartbeatRequest("g12", 2, first.MemberId)).Error), Long);
        var firstProbe3 = SendJoin(JoinRequest("g12", first.MemberId, ["coop"], assignor: "cooperative-sticky", owned: [.. kept]));
        var secondProbe3 = SendJoin(JoinRequest("g12", second2.MemberId, ["coop"], assignor: "cooperative-sticky"));
        var first3 = JoinOk(firstProbe3);
        var second3 = JoinOk(secondProbe3);
        Assert.Equal(3, first3.GenerationId);
        Assert.Equal(kept, SyncOk("g12", first3));
        Assert.Equal(movingAway.OrderBy(p => p.Partition), SyncOk("g12", second3).OrderBy(p => p.Partition));

        // Now the partition belongs to the second member: the first can no longer commit it.
        var late = Request<OffsetCommitResponse>(new OffsetCommitRequest("g12", 3, first.MemberId, [new OffsetCommitPartition("coop", movingAway[0].Partition, 4, null)]));
        Assert.Equal(ErrorCode.PartitionNotAssigned, late.Results[0].Error);
    }

    // ---- offsets ----

    [Fact]
    public void Commits_are_fenced_by_generation_ownership_and_offset_sign()
    {
        CreateTopic("commits", 4);
        var (first, _) = JoinAlone("g9", ["commits"]);
        var secondProbe = SendJoin(JoinRequest("g9", "", ["commits"]));
        // During the rebalance the old generation may still commit what it consumed (onPartitionsRevoked).
        var revokeCommit = Request<OffsetCommitResponse>(new OffsetCommitRequest("g9", 1, first.MemberId, [new OffsetCommitPartition("commits", 3, 10, null)]));
        Assert.Equal(ErrorCode.None, revokeCommit.Error);
        var firstAgain = JoinOk(SendJoin(JoinRequest("g9", first.MemberId, ["commits"])));
        JoinOk(secondProbe);
        var mine = SyncOk("g9", firstAgain);
        Assert.Equal(2, mine.Count);
        var owned = mine[0];
        var notOwned = All("commits", 4).First(p => !mine.Contains(p));

        var stale = Request<OffsetCommitResponse>(new OffsetCommitRequest("g9", 1, first.MemberId, [new OffsetCommitPartition("commits", owned.Partition, 5, null)]));
        Assert.Equal(ErrorCode.IllegalGeneration, stale.Error);

        var mixed = Request<OffsetCommitResponse>(new OffsetCommitRequest("g9", 2, first.MemberId,
        [
            new OffsetCommitPartition("commits", owned.Partition, 5, "ok"),
            new OffsetCommitPartition("commits", notOwned.Partition, 7, null),
            new OffsetCommitPartition("commits", mine[1].Partition, -4, null),
        ]));
        Assert.Equal(ErrorCode.None, mixed.Error);
        Assert.Equal([ErrorCode.None, ErrorCode.PartitionNotAssigned, ErrorCode.InvalidOffset], mixed.Results.Select(r => r.Error).ToArray());

        var unknown = Request<OffsetCommitResponse>(new OffsetCommitRequest("g9", 2, "stranger", [new OffsetCommitPartition("commits", owned.Partition, 1, null)]));
        Assert.Equal(ErrorCode.UnknownMemberId, unknown.Error);
        var reset = Request<OffsetCommitResponse>(new OffsetCommitRequest("g9", -1, "", [new OffsetCommitPartition("commits", owned.Partition, 0, null)]));
        Assert.Equal(ErrorCode.NonEmptyGroup, reset.Error);

        // Only the accepted commits count (the one made during the rebalance, then "ok"), and the coordinator still serves.
        var fetched = Request<OffsetFetchResponse>(new OffsetFetchRequest("g9", [owned, mine[1], new("commits", 3)]));
        Assert.Equal(5, fetched.Offsets[0].Offset);
        Assert.Equal("ok", fetched.Offsets[0].Metadata);
        Assert.Equal(mine[1].Partition == 3 ? 10 : -1, fetched.Offsets[1].Offset);
        Assert.Equal(owned.Partition == 3 ? 5 : 10, fetched.Offsets[2].Offset);
    }

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
        // Enough commits to pass snapshot-every-events, so recovery goes through a snapshot and the events after it.
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
