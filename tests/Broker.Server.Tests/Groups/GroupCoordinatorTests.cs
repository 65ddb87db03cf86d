using Broker.Protocol;
using Broker.Protocol.Groups;
using Broker.Protocol.Messages;
using Broker.Server.Groups;
using Broker.Server.Serialization;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Server.Tests.Groups;

/// <summary>
/// The group coordinator's rules on the plain class, with a fake clock: join, sync, heartbeat, leave, session
/// expiry, rebalance deadlines, the initial delay, commit fencing, the classic relay, cooperative hand-over and
/// recovery from the journal. No node, no sleeps: time moves only when a test advances it.
/// </summary>
public sealed class GroupCoordinatorTests
{
    private static readonly GroupSettings Settings = new(
        InitialRebalanceDelay: TimeSpan.Zero,
        MinSessionTimeout: TimeSpan.FromSeconds(1),
        MaxSessionTimeout: TimeSpan.FromMinutes(30),
        TickInterval: TimeSpan.FromMilliseconds(250),
        RegistryTimeout: TimeSpan.FromSeconds(10),
        OffsetsTopicPartitions: 10,
        WriteTimeout: TimeSpan.FromSeconds(15),
        LoadRetryInterval: TimeSpan.FromMilliseconds(500),
        CheckpointInterval: TimeSpan.FromSeconds(5),
        CheckpointAfterRecords: 10_000);

    private readonly FakeTimeProvider _clock = new();
    private readonly Group _group;

    public GroupCoordinatorTests() => _group = new Group(new GroupCoordinator("g", Settings, _clock));

    /// <summary>Stands in for the actor: keeps parked requesters, records the journal, delivers replies to inboxes.</summary>
    private sealed class Group(GroupCoordinator coordinator)
    {
        private readonly Dictionary<string, Inbox> _pendingJoins = new();
        private readonly Dictionary<string, Inbox> _pendingSyncs = new();

        public GroupCoordinator Coordinator { get; } = coordinator;
        public List<IServerMessage> Journal { get; } = [];

        public Inbox Send(Func<GroupCoordinator, GroupOutcome> command)
        {
            var requester = new Inbox();
            Carry(command(Coordinator), requester);
            return requester;
        }

        public T Ask<T>(Func<GroupCoordinator, GroupOutcome> command) where T : IBrokerResponse => Send(command).Single<T>();

        public void Tick() => Carry(Coordinator.Tick(), new Inbox());

        public void Carry(GroupOutcome outcome, Inbox requester)
        {
            if (outcome.Parked is { } parked)
                (parked.Target == ReplyTarget.PendingJoin ? _pendingJoins : _pendingSyncs)[parked.MemberId] = requester;
            Journal.AddRange(outcome.Events);
            foreach (var reply in outcome.Replies)
            {
                var to = reply.To switch
                {
                    ReplyTarget.Requester => requester,
                    ReplyTarget.PendingJoin => _pendingJoins.Remove(reply.MemberId, out var j) ? j : null,
                    _ => _pendingSyncs.Remove(reply.MemberId, out var s) ? s : null,
                };
                to?.Replies.Add(reply.Message);
            }
        }
    }

    private sealed class Inbox
    {
        public List<IBrokerResponse> Replies { get; } = [];

        public T Single<T>() where T : IBrokerResponse => Assert.IsType<T>(Assert.Single(Replies));
    }

    // ---- helpers ----

    private static JoinGroupRequest JoinRequest(string memberId, string[] topics, string assignor = "range", int sessionMs = 3000, TopicPartition[]? owned = null) =>
        GroupRequests.Join("g", memberId, topics, assignor, sessionMs, owned);

    private Inbox Join(JoinGroupRequest request) => _group.Send(c => c.Join(request));

    private static JoinGroupResponse Joined(Inbox inbox)
    {
        var joined = inbox.Single<JoinGroupResponse>();
        Assert.True(joined.Error == ErrorCode.None, $"{joined.Error}: {joined.ErrorMessage}");
        return joined;
    }

    private IReadOnlyList<TopicPartition> SyncOk(JoinGroupResponse joined)
    {
        var synced = _group.Ask<SyncGroupResponse>(c => c.Sync(new SyncGroupRequest("g", joined.GenerationId, joined.MemberId, [])));
        Assert.True(synced.Error == ErrorCode.None, $"{synced.Error}: {synced.ErrorMessage}");
        return ConsumerProtocol.DecodeAssignment(synced.Assignment);
    }

    private ErrorCode Heartbeat(JoinGroupResponse member, int? generation = null) =>
        _group.Ask<HeartbeatResponse>(c => c.Heartbeat(new HeartbeatRequest("g", generation ?? member.GenerationId, member.MemberId))).Error;

    private OffsetCommitResponse Commit(int generation, string memberId, params OffsetCommitPartition[] offsets) =>
        _group.Ask<OffsetCommitResponse>(c => c.Commit(new OffsetCommitRequest("g", generation, memberId, offsets)));

    private void Topics(params (string Topic, int Partitions)[] topics)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (topic, partitions) in topics) counts[topic] = partitions;
        _group.Carry(_group.Coordinator.TopicsChanged(counts), new Inbox());
    }

    private void Advance(int ms)
    {
        _clock.Advance(TimeSpan.FromMilliseconds(ms));
        _group.Tick();
    }

    /// <summary>One member joins, then a second: both rejoin into generation 2.</summary>
    private (JoinGroupResponse First, JoinGroupResponse Second) TwoMembers(string[] topics, string assignor = "range", int sessionMs = 3000)
    {
        var first = Joined(Join(JoinRequest("", topics, assignor, sessionMs)));
        SyncOk(first);
        var secondJoin = Join(JoinRequest("", topics, assignor, sessionMs));
        Assert.Empty(secondJoin.Replies);
        var firstAgain = Joined(Join(JoinRequest(first.MemberId, topics, assignor, sessionMs)));
        return (firstAgain, Joined(secondJoin));
    }

    private static List<TopicPartition> All(string topic, int partitions) => GroupRequests.All(topic, partitions);

    // ---- join, sync, heartbeat, leave ----

    [Fact]
    public void A_single_member_gets_generation_1_and_every_partition()
    {
        Topics(("orders", 4));
        var joined = Joined(Join(JoinRequest("", ["orders"])));

        Assert.Equal(1, joined.GenerationId);
        Assert.Equal(joined.MemberId, joined.LeaderId);
        Assert.Equal("range", joined.ProtocolName);
        Assert.Equal(All("orders", 4), SyncOk(joined));
        Assert.Equal(ErrorCode.None, Heartbeat(joined));
        Assert.Equal(GroupState.Stable, _group.Coordinator.State);
        Assert.IsType<GenerationStarted>(Assert.Single(_group.Journal));
    }

    [Fact]
    public void A_second_member_waits_until_the_first_rejoins_then_the_partitions_split()
    {
        Topics(("split", 6));
        var first = Joined(Join(JoinRequest("", ["split"])));
        SyncOk(first);

        var secondJoin = Join(JoinRequest("", ["split"]));
        Assert.Empty(secondJoin.Replies);
        Assert.Equal(GroupState.PreparingRebalance, _group.Coordinator.State);
        Assert.Equal(ErrorCode.RebalanceInProgress, Heartbeat(first));
        var firstAgain = Joined(Join(JoinRequest(first.MemberId, ["split"])));
        var second = Joined(secondJoin);

        Assert.Equal(2, firstAgain.GenerationId);
        Assert.Equal(2, second.GenerationId);
        var a = SyncOk(firstAgain);
        var b = SyncOk(second);
        Assert.Equal(3, a.Count);
        Assert.Equal(3, b.Count);
        Assert.Equal(All("split", 6), a.Concat(b).OrderBy(p => p.Partition).ToList());
        Assert.Equal(ErrorCode.IllegalGeneration, Heartbeat(first, generation: 1));
    }

    [Fact]
    public void A_follower_that_rejoins_unchanged_in_a_stable_group_gets_the_current_generation_without_a_rebalance()
    {
        Topics(("t", 2));
        var (first, second) = TwoMembers(["t"]);
        var follower = first.MemberId == first.LeaderId ? second : first;

        var again = Joined(Join(JoinRequest(follower.MemberId, ["t"])));
        Assert.Equal(2, again.GenerationId);
        Assert.Equal(GroupState.Stable, _group.Coordinator.State);
    }

    [Fact]
    public void A_member_that_stops_heartbeating_is_removed_after_its_session_timeout()
    {
        Topics(("expiry", 4));
        var (alive, silent) = TwoMembers(["expiry"], sessionMs: 2500);
        SyncOk(alive);
        SyncOk(silent);

        // Just inside the session: nobody expires.
        Advance(2000);
        Assert.Equal(ErrorCode.None, Heartbeat(alive));
        Advance(500);
        Assert.Equal(GroupState.Stable, _group.Coordinator.State);
        // "silent" passed its 2500 ms; "alive" heartbeated 500 ms ago.
        Advance(1);
        Assert.Equal(ErrorCode.RebalanceInProgress, Heartbeat(alive));
        var rejoined = Joined(Join(JoinRequest(alive.MemberId, ["expiry"], sessionMs: 2500)));
        Assert.Equal(3, rejoined.GenerationId);
        Assert.Equal(All("expiry", 4), SyncOk(rejoined));
        Assert.Equal(ErrorCode.UnknownMemberId, Heartbeat(silent, generation: 3));
    }

    [Fact]
    public void A_member_waiting_for_its_join_reply_does_not_expire()
    {
        Topics(("t", 2));
        // Rebalance timeouts far longer than the sessions: this is about sessions, not the rebalance deadline.
        var first = Joined(Join(JoinRequest("", ["t"], sessionMs: 1000) with { RebalanceTimeoutMs = 60_000 }));
        SyncOk(first);
        var secondJoin = Join(JoinRequest("", ["t"], sessionMs: 1000) with { RebalanceTimeoutMs = 60_000 });

        // The first member keeps heartbeating; the second waits for the rebalance and cannot heartbeat.
        for (var i = 0; i < 4; i++)
        {
            Advance(400);
            Assert.Equal(ErrorCode.RebalanceInProgress, Heartbeat(first));
        }
        Assert.Empty(secondJoin.Replies);
        Joined(Join(JoinRequest(first.MemberId, ["t"], sessionMs: 1000)));
        Assert.Equal(2, Joined(secondJoin).GenerationId);
    }

    [Fact]
    public void A_member_that_does_not_rejoin_within_the_rebalance_timeout_is_dropped_and_the_generation_starts()
    {
        Topics(("t", 2));
        var (first, second) = TwoMembers(["t"], sessionMs: 5000);
        SyncOk(first);
        SyncOk(second);
        var thirdJoin = Join(JoinRequest("", ["t"], sessionMs: 5000));
        // "second" rejoins; "first" keeps heartbeating but never rejoins.
        var secondJoin = Join(JoinRequest(second.MemberId, ["t"], sessionMs: 5000));
        Advance(4000);
        Assert.Equal(ErrorCode.RebalanceInProgress, Heartbeat(first));
        Assert.Empty(thirdJoin.Replies);
        Advance(1000);

        Assert.Equal(3, Joined(thirdJoin).GenerationId);
        Assert.Equal(3, Joined(secondJoin).GenerationId);
        Assert.Equal(ErrorCode.UnknownMemberId, Heartbeat(first, generation: 3));
        Assert.Equal(2, _group.Coordinator.Describe().Members.Count);
    }

    [Fact]
    public void A_new_group_waits_the_initial_rebalance_delay_for_more_members()
    {
        var group = new Group(new GroupCoordinator("g", Settings with { InitialRebalanceDelay = TimeSpan.FromSeconds(1) }, _clock));
        group.Carry(group.Coordinator.TopicsChanged(new Dictionary<string, int> { ["t"] = 2 }), new Inbox());
        var first = group.Send(c => c.Join(JoinRequest("", ["t"])));
        _clock.Advance(TimeSpan.FromMilliseconds(500));
        group.Tick();
        var second = group.Send(c => c.Join(JoinRequest("", ["t"])));
        _clock.Advance(TimeSpan.FromMilliseconds(499));
        group.Tick();
        Assert.Empty(first.Replies);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        group.Tick();
        Assert.Equal(1, Joined(first).GenerationId);
        Assert.Equal(1, Joined(second).GenerationId);
    }

    [Fact]
    public void Leaving_hands_the_partitions_over_and_the_last_leave_empties_the_group()
    {
        Topics(("leave", 2));
        var (first, second) = TwoMembers(["leave"], sessionMs: 60_000);
        SyncOk(first);
        SyncOk(second);

        Assert.Equal(ErrorCode.None, _group.Ask<LeaveGroupResponse>(c => c.Leave(new LeaveGroupRequest("g", second.MemberId))).Error);
        Assert.Equal(ErrorCode.RebalanceInProgress, Heartbeat(first));
        var alone = Joined(Join(JoinRequest(first.MemberId, ["leave"], sessionMs: 60_000)));
        Assert.Equal(All("leave", 2), SyncOk(alone));

        Assert.Equal(ErrorCode.None, _group.Ask<LeaveGroupResponse>(c => c.Leave(new LeaveGroupRequest("g", first.MemberId))).Error);
        Assert.Equal(GroupState.Empty, _group.Coordinator.State);
        Assert.Empty(Assert.IsType<GenerationStarted>(_group.Journal[^1]).Members);
        Assert.Equal(ErrorCode.UnknownMemberId, _group.Ask<LeaveGroupResponse>(c => c.Leave(new LeaveGroupRequest("g", first.MemberId))).Error);
    }

    [Fact]
    public void A_member_that_leaves_while_its_join_is_parked_gets_UnknownMemberId_on_that_join()
    {
        Topics(("t", 1));
        var first = Joined(Join(JoinRequest("", ["t"])));
        SyncOk(first);
        var secondJoin = Join(JoinRequest("", ["t"]));
        var secondId = _group.Coordinator.Describe().Members.Single(m => m.MemberId != first.MemberId).MemberId;

        _group.Ask<LeaveGroupResponse>(c => c.Leave(new LeaveGroupRequest("g", secondId)));
        Assert.Equal(ErrorCode.UnknownMemberId, secondJoin.Single<JoinGroupResponse>().Error);
    }

    [Fact]
    public void A_subscribed_topic_that_is_created_later_triggers_a_rebalance()
    {
        Topics(("first-topic", 1));
        var joined = Joined(Join(JoinRequest("", ["first-topic", "later-topic"])));
        Assert.Equal(All("first-topic", 1), SyncOk(joined));

        Topics(("first-topic", 1), ("other", 3));
        Assert.Equal(ErrorCode.None, Heartbeat(joined));
        Topics(("first-topic", 1), ("other", 3), ("later-topic", 2));
        Assert.Equal(ErrorCode.RebalanceInProgress, Heartbeat(joined));
        var rejoined = Joined(Join(JoinRequest(joined.MemberId, ["first-topic", "later-topic"])));
        Assert.Equal(3, SyncOk(rejoined).Count);
    }

    [Fact]
    public void Members_with_no_common_assignor_are_refused()
    {
        Topics(("mixed", 1));
        SyncOk(Joined(Join(JoinRequest("", ["mixed"], assignor: "range"))));
        var refused = Join(JoinRequest("", ["mixed"], assignor: "roundrobin")).Single<JoinGroupResponse>();
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, refused.Error);
        Assert.Contains("partition.assignment.strategy", refused.ErrorMessage);
    }

    [Fact]
    public void Bad_session_timeouts_unknown_members_and_unreadable_subscriptions_get_typed_errors()
    {
        Assert.Equal(ErrorCode.InvalidSessionTimeout, Join(JoinRequest("", ["x"], sessionMs: 10)).Single<JoinGroupResponse>().Error);
        Assert.Equal(ErrorCode.UnknownMemberId, Join(JoinRequest("nobody", ["x"])).Single<JoinGroupResponse>().Error);
        var garbled = new JoinGroupRequest("g", "", "c", 3000, 3000, ConsumerProtocol.ProtocolType, [new GroupProtocol("range", [0xFF])]);
        Assert.Equal(ErrorCode.InvalidRequest, Join(garbled).Single<JoinGroupResponse>().Error);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol,
            Join(new JoinGroupRequest("g", "", "c", 3000, 3000, ConsumerProtocol.ProtocolType, [])).Single<JoinGroupResponse>().Error);
    }

    [Fact]
    public void An_unknown_group_is_described_as_Dead_and_answers_UnknownGroup()
    {
        var described = _group.Coordinator.Describe();
        Assert.Equal(ErrorCode.UnknownGroup, described.Error);
        Assert.Equal("Dead", described.State);
        Assert.Equal(ErrorCode.UnknownGroup, _group.Ask<HeartbeatResponse>(c => c.Heartbeat(new HeartbeatRequest("g", 1, "m"))).Error);
        Assert.Equal(ErrorCode.UnknownGroup, _group.Ask<LeaveGroupResponse>(c => c.Leave(new LeaveGroupRequest("g", "m"))).Error);
        Assert.Equal(-1, Assert.Single(_group.Coordinator.FetchOffsets(new OffsetFetchRequest("g", [new("t", 0)])).Offsets).Offset);
    }

    // ---- the classic protocol ----

    [Fact]
    public void The_classic_protocol_relays_the_leaders_assignment_bytes_to_waiting_followers()
    {
        static JoinGroupRequest Classic(string memberId) => new("g", memberId, "kafka-client", 5000, 5000, "connect", [new GroupProtocol("custom", [1, 2, 3])]);
        var leader = Joined(Join(Classic("")));
        Assert.Equal(leader.MemberId, leader.LeaderId);
        Assert.Equal(new byte[] { 1, 2, 3 }, Assert.Single(leader.Members).Metadata);
        var synced = _group.Ask<SyncGroupResponse>(c => c.Sync(new SyncGroupRequest("g", 1, leader.MemberId, [new SyncGroupAssignment(leader.MemberId, [9])])));
        Assert.Equal(new byte[] { 9 }, synced.Assignment);

        var followerJoin = Join(Classic(""));
        var leader2 = Joined(Join(Classic(leader.MemberId)));
        var follower = Joined(followerJoin);
        Assert.Equal(2, leader2.Members.Count);
        Assert.Empty(follower.Members);
        Assert.Equal(GroupState.CompletingRebalance, _group.Coordinator.State);

        // The follower's sync waits for the leader's.
        var followerSync = _group.Send(c => c.Sync(new SyncGroupRequest("g", 2, follower.MemberId, [])));
        Assert.Empty(followerSync.Replies);
        Assert.Equal(ErrorCode.RebalanceInProgress, Commit(2, follower.MemberId, new OffsetCommitPartition("t", 0, 1, null)).Error);
        var leaderSync = _group.Ask<SyncGroupResponse>(c => c.Sync(new SyncGroupRequest("g", 2, leader.MemberId,
            [new SyncGroupAssignment(leader.MemberId, [9, 8]), new SyncGroupAssignment(follower.MemberId, [7])])));
        Assert.Equal(new byte[] { 9, 8 }, leaderSync.Assignment);
        Assert.Equal(new byte[] { 7 }, followerSync.Single<SyncGroupResponse>().Assignment);
        Assert.Equal(GroupState.Stable, _group.Coordinator.State);
        Assert.IsType<AssignmentsSynced>(_group.Journal[^1]);
    }

    [Fact]
    public void A_follower_waiting_for_the_leaders_assignment_is_told_to_rejoin_when_a_rebalance_starts()
    {
        static JoinGroupRequest Classic(string memberId) => new("g", memberId, "kafka-client", 5000, 5000, "connect", [new GroupProtocol("custom", [1])]);
        var firstJoin = Join(Classic(""));
        var leader = Joined(firstJoin);
        _group.Ask<SyncGroupResponse>(c => c.Sync(new SyncGroupRequest("g", 1, leader.MemberId, [new SyncGroupAssignment(leader.MemberId, [1])])));
        var followerJoin = Join(Classic(""));
        Joined(Join(Classic(leader.MemberId)));
        var follower = Joined(followerJoin);
        var followerSync = _group.Send(c => c.Sync(new SyncGroupRequest("g", 2, follower.MemberId, [])));

        Join(Classic(""));
        Assert.Equal(ErrorCode.RebalanceInProgress, followerSync.Single<SyncGroupResponse>().Error);
    }

    // ---- cooperative ----

    [Fact]
    public void Cooperative_rebalancing_never_gives_a_partition_two_owners_and_hands_over_in_a_second_round()
    {
        Topics(("coop", 4));
        var first = Joined(Join(JoinRequest("", ["coop"], assignor: "cooperative-sticky")));
        var all = SyncOk(first);
        Assert.Equal(4, all.Count);

        var secondJoin = Join(JoinRequest("", ["coop"], assignor: "cooperative-sticky"));
        Assert.Equal(ErrorCode.RebalanceInProgress, Heartbeat(first));
        var first2 = Joined(Join(JoinRequest(first.MemberId, ["coop"], assignor: "cooperative-sticky", owned: [.. all])));
        var second2 = Joined(secondJoin);
        Assert.Equal(2, first2.GenerationId);
        var kept = SyncOk(first2);
        // Round one: the first keeps its share, the second gets nothing yet (the rest is still owned).
        Assert.Equal(2, kept.Count);
        Assert.Equal(GroupState.Stable, _group.Coordinator.State);
        Assert.Empty(SyncOk(second2));
        var movingAway = all.Except(kept).ToList();
        // While handing over, the first may still commit what it gives up.
        Assert.Equal(ErrorCode.None, Commit(2, first.MemberId, new OffsetCommitPartition("coop", movingAway[0].Partition, 3, null)).Results[0].Error);

        // Round two starts once both have their round-one assignment.
        Assert.Equal(ErrorCode.RebalanceInProgress, Heartbeat(first2));
        var firstJoin3 = Join(JoinRequest(first.MemberId, ["coop"], assignor: "cooperative-sticky", owned: [.. kept]));
        var second3 = Joined(Join(JoinRequest(second2.MemberId, ["coop"], assignor: "cooperative-sticky")));
        var first3 = Joined(firstJoin3);
        Assert.Equal(3, first3.GenerationId);
        Assert.Equal(kept, SyncOk(first3));
        Assert.Equal(movingAway.OrderBy(p => p.Partition), SyncOk(second3).OrderBy(p => p.Partition));

        // Now the partition belongs to the second member: the first can no longer commit it.
        Assert.Equal(ErrorCode.PartitionNotAssigned, Commit(3, first.MemberId, new OffsetCommitPartition("coop", movingAway[0].Partition, 4, null)).Results[0].Error);
    }

    // ---- offsets ----

    [Fact]
    public void Commits_are_fenced_by_generation_ownership_and_offset_sign()
    {
        Topics(("commits", 4));
        var first = Joined(Join(JoinRequest("", ["commits"])));
        SyncOk(first);
        var secondJoin = Join(JoinRequest("", ["commits"]));
        // During the rebalance the old generation may still commit what it consumed (onPartitionsRevoked).
        Assert.Equal(ErrorCode.None, Commit(1, first.MemberId, new OffsetCommitPartition("commits", 3, 10, null)).Error);
        var firstAgain = Joined(Join(JoinRequest(first.MemberId, ["commits"])));
        Joined(secondJoin);
        var mine = SyncOk(firstAgain);
        var owned = mine[0];
        var notOwned = All("commits", 4).First(p => !mine.Contains(p));

        Assert.Equal(ErrorCode.IllegalGeneration, Commit(1, first.MemberId, new OffsetCommitPartition("commits", owned.Partition, 5, null)).Error);
        var mixed = Commit(2, first.MemberId,
            new OffsetCommitPartition("commits", owned.Partition, 5, "ok"),
            new OffsetCommitPartition("commits", notOwned.Partition, 7, null),
            new OffsetCommitPartition("commits", mine[1].Partition, -4, null));
        Assert.Equal(ErrorCode.None, mixed.Error);
        Assert.Equal([ErrorCode.None, ErrorCode.PartitionNotAssigned, ErrorCode.InvalidOffset], mixed.Results.Select(r => r.Error).ToArray());
        Assert.Equal(ErrorCode.UnknownMemberId, Commit(2, "stranger", new OffsetCommitPartition("commits", owned.Partition, 1, null)).Error);
        Assert.Equal(ErrorCode.NonEmptyGroup, Commit(-1, "", new OffsetCommitPartition("commits", owned.Partition, 0, null)).Error);

        var fetched = _group.Coordinator.FetchOffsets(new OffsetFetchRequest("g", [owned, mine[1], new("commits", 3)]));
        Assert.Equal(5, fetched.Offsets[0].Offset);
        Assert.Equal("ok", fetched.Offsets[0].Metadata);
        Assert.Equal(mine[1].Partition == 3 ? 10 : -1, fetched.Offsets[1].Offset);
        Assert.Equal(owned.Partition == 3 ? 5 : 10, fetched.Offsets[2].Offset);
    }

    [Fact]
    public void A_commit_with_nothing_accepted_writes_no_event()
    {
        Topics(("t", 1));
        var joined = Joined(Join(JoinRequest("", ["t"])));
        SyncOk(joined);
        var before = _group.Journal.Count;
        Assert.Equal(ErrorCode.InvalidOffset, Commit(1, joined.MemberId, new OffsetCommitPartition("t", 0, -1, null)).Results[0].Error);
        Assert.Equal(before, _group.Journal.Count);
    }

    [Fact]
    public void A_Kafka_commit_keeps_a_negative_offset_as_given()
    {
        Topics(("t", 1));
        var joined = Joined(Join(JoinRequest("", ["t"])));
        SyncOk(joined);
        var commit = new OffsetCommitRequest("g", 1, joined.MemberId, [new OffsetCommitPartition("t", 0, -2, null)]) { KeepsNegativeOffsets = true };
        Assert.Equal(ErrorCode.None, _group.Ask<OffsetCommitResponse>(c => c.Commit(commit)).Results[0].Error);
        Assert.Equal(-2, _group.Coordinator.FetchOffsets(new OffsetFetchRequest("g", [new TopicPartition("t", 0)])).Offsets[0].Offset);
    }

    [Fact]
    public void An_empty_group_accepts_offsets_set_from_outside()
    {
        Assert.Equal(ErrorCode.None, Commit(-1, "", new OffsetCommitPartition("reset", 1, 42, null)).Error);
        Assert.Equal(42, Assert.Single(_group.Coordinator.FetchOffsets(new OffsetFetchRequest("g", null)).Offsets).Offset);
        Assert.Equal("Empty", _group.Coordinator.Describe().State);
    }

    // ---- recovery ----

    [Fact]
    public void Replaying_the_journal_restores_the_generation_and_offsets_and_silent_members_expire_later()
    {
        Topics(("durable", 3));
        var (first, second) = TwoMembers(["durable"], sessionMs: 10_000);
        SyncOk(first);
        SyncOk(second);
        Assert.Equal(ErrorCode.None, Commit(2, first.MemberId, new OffsetCommitPartition("durable", SyncOk(first)[0].Partition, 100, null)).Error);

        var recovered = new Group(new GroupCoordinator("g", Settings, _clock));
        foreach (var e in _group.Journal) recovered.Coordinator.Apply(e);
        recovered.Carry(recovered.Coordinator.Recovered(), new Inbox());
        recovered.Carry(recovered.Coordinator.TopicsChanged(new Dictionary<string, int> { ["durable"] = 3 }), new Inbox());

        Assert.Equal(GroupState.Stable, recovered.Coordinator.State);
        Assert.Equal(2, recovered.Coordinator.Generation);
        Assert.Equal(100, Assert.Single(recovered.Coordinator.FetchOffsets(new OffsetFetchRequest("g", null)).Offsets).Offset);
        // "first" carries on with heartbeats; "second" never comes back and expires a session after the restart.
        _clock.Advance(TimeSpan.FromSeconds(9));
        recovered.Tick();
        Assert.Equal(ErrorCode.None, recovered.Ask<HeartbeatResponse>(c => c.Heartbeat(new HeartbeatRequest("g", 2, first.MemberId))).Error);
        _clock.Advance(TimeSpan.FromSeconds(2));
        recovered.Tick();
        Assert.Equal(ErrorCode.RebalanceInProgress, recovered.Ask<HeartbeatResponse>(c => c.Heartbeat(new HeartbeatRequest("g", 2, first.MemberId))).Error);
    }

    // ---- deleting (DeleteGroups, OffsetDelete) ----

    [Fact]
    public void Deleting_a_group_needs_it_empty_and_existing_and_removes_its_offsets_for_good()
    {
        Topics(("gone", 2));
        Assert.Equal(ErrorCode.UnknownGroup, _group.Ask<DeleteGroupResponse>(c => c.Delete()).Error);
        var joined = Joined(Join(JoinRequest("", ["gone"])));
        SyncOk(joined);
        Assert.Equal(ErrorCode.None, Commit(1, joined.MemberId, new OffsetCommitPartition("gone", 0, 5, null)).Error);
        Assert.Equal(ErrorCode.NonEmptyGroup, _group.Ask<DeleteGroupResponse>(c => c.Delete()).Error);

        _group.Ask<LeaveGroupResponse>(c => c.Leave(new LeaveGroupRequest("g", joined.MemberId)));
        Assert.Equal(ErrorCode.None, _group.Ask<DeleteGroupResponse>(c => c.Delete()).Error);
        Assert.IsType<GroupDeleted>(_group.Journal[^1]);
        Assert.Equal(ErrorCode.UnknownGroup, _group.Coordinator.Describe().Error); // described as Dead, so not listed
        Assert.Equal(-1, Assert.Single(_group.Coordinator.FetchOffsets(new OffsetFetchRequest("g", [new TopicPartition("gone", 0)])).Offsets).Offset);

        // Replaying the journal, or a snapshot taken after the delete, gives the same: no group.
        var replayed = new GroupCoordinator("g", Settings, _clock);
        foreach (var e in _group.Journal) replayed.Apply(e);
        Assert.Equal(ErrorCode.UnknownGroup, replayed.Describe().Error);
        var fromSnapshot = new GroupCoordinator("g", Settings, _clock);
        fromSnapshot.Apply(_group.Coordinator.Snapshot());
        Assert.Equal(ErrorCode.UnknownGroup, fromSnapshot.Describe().Error);
    }

    [Fact]
    public void Deleting_offsets_spares_the_partitions_a_member_is_assigned()
    {
        Topics(("kept", 1), ("dropped", 1));
        // Committed while the group had no members (as `assign()` consumers and admin tools do), then a member subscribes to "kept" only.
        Assert.Equal(ErrorCode.None, _group.Ask<OffsetCommitResponse>(c => c.Commit(new OffsetCommitRequest("g", -1, "", [new OffsetCommitPartition("dropped", 0, 9, null)]))).Error);
        var joined = Joined(Join(JoinRequest("", ["kept"])));
        SyncOk(joined);
        Assert.Equal(ErrorCode.None, Commit(1, joined.MemberId, new OffsetCommitPartition("kept", 0, 3, null)).Error);

        var deleted = _group.Ask<DeleteGroupOffsetsResponse>(c => c.DeleteOffsets(new DeleteGroupOffsetsRequest("g", [new TopicPartition("kept", 0), new TopicPartition("dropped", 0)])));
        Assert.Equal([ErrorCode.GroupSubscribedToTopic, ErrorCode.None], deleted.Results.Select(r => r.Error));
        var offsets = _group.Coordinator.FetchOffsets(new OffsetFetchRequest("g", null)).Offsets;
        Assert.Equal(("kept", 3L), (Assert.Single(offsets).Topic, offsets[0].Offset));
        Assert.Equal([new TopicPartition("dropped", 0)], Assert.IsType<OffsetsDeleted>(_group.Journal[^1]).Partitions);

        var unknown = new Group(new GroupCoordinator("other", Settings, _clock));
        Assert.Equal(ErrorCode.UnknownGroup, unknown.Ask<DeleteGroupOffsetsResponse>(c => c.DeleteOffsets(new DeleteGroupOffsetsRequest("other", [new TopicPartition("kept", 0)]))).Error);
    }

    [Fact]
    public void A_snapshot_restores_the_same_group_as_the_events_it_replaces()
    {
        Topics(("snap", 2));
        var joined = Joined(Join(JoinRequest("", ["snap"])));
        SyncOk(joined);
        Commit(1, joined.MemberId, new OffsetCommitPartition("snap", 1, 7, null));

        var restored = new GroupCoordinator("g", Settings, _clock);
        restored.Apply(_group.Coordinator.Snapshot());
        restored.Recovered();
        var expected = _group.Coordinator.Describe();
        var actual = restored.Describe();
        Assert.Equal(expected.State, actual.State);
        Assert.Equal(expected.GenerationId, actual.GenerationId);
        Assert.Equal(expected.Members.Single().Assignment, actual.Members.Single().Assignment);
        Assert.Equal(expected.Offsets, actual.Offsets);
    }

    [Fact]
    public void A_snapshot_holds_what_was_written_not_a_member_still_joining()
    {
        Topics(("snap", 2));
        var joined = Joined(Join(JoinRequest("", ["snap"])));
        SyncOk(joined);
        // A second consumer's join starts a rebalance that has not completed: it is in memory, in no generation.
        Join(JoinRequest("", ["snap"]));
        Assert.Equal(GroupState.PreparingRebalance, _group.Coordinator.State);

        var snapshot = _group.Coordinator.Snapshot();
        Assert.Equal(1, snapshot.Generation.GenerationId);
        Assert.Equal([joined.MemberId], snapshot.Generation.Members.Select(m => m.MemberId));
        var replayed = new GroupCoordinator("g", Settings, _clock);
        foreach (var e in _group.Journal) replayed.Apply(e);
        Assert.Equal(replayed.Snapshot().Generation.Members.Single().Assignment, snapshot.Generation.Members.Single().Assignment);
    }

    [Fact]
    public void A_snapshot_read_after_older_events_replaces_them_so_deleted_offsets_stay_deleted()
    {
        Assert.Equal(ErrorCode.None, _group.Ask<OffsetCommitResponse>(c => c.Commit(new OffsetCommitRequest("g", -1, "", [new OffsetCommitPartition("t", 0, 9, null), new OffsetCommitPartition("t", 1, 4, null)]))).Error);
        _group.Ask<DeleteGroupOffsetsResponse>(c => c.DeleteOffsets(new DeleteGroupOffsetsRequest("g", [new TopicPartition("t", 0)])));
        var snapshot = Assert.IsType<GroupSnapshot>(Assert.Single(_group.Coordinator.Checkpoint().Events));

        // A replica whose log start is older reads the commit, then the snapshot (the delete itself was trimmed on the leader).
        var reader = new GroupCoordinator("g", Settings, _clock);
        reader.Apply(_group.Journal[0]);
        reader.Apply(snapshot);
        Assert.Equal([("t", 1, 4L)], reader.FetchOffsets(new OffsetFetchRequest("g", null)).Offsets.Select(o => (o.Topic, o.Partition, o.Offset)));
        Assert.True(reader.Exists);
    }

    [Fact]
    public void A_classic_generation_recovered_without_the_leaders_assignment_rebalances()
    {
        var join = new JoinGroupRequest("g", "", "kafka-client", 5000, 5000, "connect", [new GroupProtocol("custom", [1])]);
        Joined(Join(join));
        var recovered = new GroupCoordinator("g", Settings, _clock);
        foreach (var e in _group.Journal) recovered.Apply(e);
        recovered.Recovered();
        Assert.Equal(GroupState.PreparingRebalance, recovered.State);
    }
}
