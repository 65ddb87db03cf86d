using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Groups;
using Broker.Server.Serialization;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Server.Tests.Groups;

/// <summary>
/// KIP-848 consumer groups (ConsumerGroupHeartbeat) on the plain <see cref="GroupCoordinator"/> with a fake clock:
/// server-side assignment, member epochs, revoke before assign, sessions and rebalance timeouts, commit fencing by
/// member epoch, the classic/consumer split, and replay from the events written to __consumer_offsets.
/// </summary>
public sealed class ConsumerGroupTests
{
    private const int SessionMs = 10_000;
    private const int HeartbeatMs = 1_000;

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
        CheckpointAfterRecords: 10_000,
        ConsumerProtocol: new ConsumerGroupSettings(["uniform", "range"], TimeSpan.FromMilliseconds(SessionMs), TimeSpan.FromMilliseconds(HeartbeatMs)));

    private readonly FakeTimeProvider _clock = new();
    private readonly GroupCoordinator _group;
    private readonly List<IServerMessage> _journal = [];

    public ConsumerGroupTests()
    {
        _group = new GroupCoordinator("g", Settings, _clock);
        Topics(("orders", 6));
    }

    // ---- helpers ----

    private T Carry<T>(GroupOutcome outcome) where T : IBrokerResponse
    {
        _journal.AddRange(outcome.Events);
        return Assert.IsType<T>(Assert.Single(outcome.Replies).Message);
    }

    private void Topics(params (string Topic, int Partitions)[] topics)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (topic, partitions) in topics) counts[topic] = partitions;
        _journal.AddRange(_group.TopicsChanged(counts).Events);
    }

    private ConsumerGroupHeartbeatResponse Heartbeat(string memberId, int epoch, IReadOnlyList<TopicPartition>? owned = null,
        string[]? topics = null, string? assignor = null, GroupCoordinator? group = null) =>
        Carry<ConsumerGroupHeartbeatResponse>((group ?? _group).ConsumerHeartbeat(
            new ConsumerGroupHeartbeatRequest("g", memberId, epoch, "client", 60_000, topics, assignor, owned)));

    private ConsumerGroupHeartbeatResponse Join(string memberId, string? assignor = null)
    {
        var joined = Heartbeat(memberId, 0, owned: [], topics: ["orders"], assignor: assignor);
        Assert.True(joined.Error == ErrorCode.None, $"{joined.Error}: {joined.ErrorMessage}");
        return joined;
    }

    private void Advance(int ms)
    {
        _clock.Advance(TimeSpan.FromMilliseconds(ms));
        _journal.AddRange(_group.Tick().Events);
    }

    private static TopicPartition[] Orders(params int[] partitions) => Array.ConvertAll(partitions, p => new TopicPartition("orders", p));

    private static int[] Numbers(IReadOnlyList<TopicPartition>? partitions) => partitions is null ? [] : [.. partitions.Select(p => p.Partition).Order()];

    // ---- joining and assignment ----

    [Fact]
    public void A_joining_member_gets_an_epoch_every_partition_and_the_configured_heartbeat_interval()
    {
        var joined = Join("a");

        Assert.Equal("a", joined.MemberId);
        Assert.Equal(1, joined.MemberEpoch);
        Assert.Equal(HeartbeatMs, joined.HeartbeatIntervalMs);
        Assert.Equal([0, 1, 2, 3, 4, 5], Numbers(joined.Assignment));
        var written = Assert.IsType<ConsumerGroupUpdated>(Assert.Single(_journal));
        Assert.Equal(1, written.GroupEpoch);
        Assert.Equal("uniform", written.Assignor);
    }

    [Fact]
    public void A_member_joining_without_an_id_is_given_one()
    {
        var joined = Heartbeat("", 0, owned: [], topics: ["orders"]);

        Assert.Equal(ErrorCode.None, joined.Error);
        Assert.True(Guid.TryParse(joined.MemberId, out _), joined.MemberId);
    }

    [Fact]
    public void A_plain_heartbeat_changes_nothing_and_writes_nothing()
    {
        var joined = Join("a");
        _journal.Clear();

        var again = Heartbeat("a", joined.MemberEpoch);

        Assert.Equal(ErrorCode.None, again.Error);
        Assert.Equal(1, again.MemberEpoch);
        Assert.Null(again.Assignment); // unchanged
        Assert.Empty(_journal);
    }

    [Fact]
    public void A_partition_moves_to_a_new_member_only_after_its_owner_acknowledged_revoking_it()
    {
        var a = Join("a");
        var b = Join("b");

        // b is at the new epoch but gets nothing yet: every partition it is meant to have is still a's.
        Assert.Equal(2, b.MemberEpoch);
        Assert.Empty(Numbers(b.Assignment));

        // a learns what to give up: it keeps its share, its epoch stays until it has revoked the rest.
        var revoking = Heartbeat("a", a.MemberEpoch, owned: Orders(0, 1, 2, 3, 4, 5));
        Assert.Equal(1, revoking.MemberEpoch);
        var kept = Numbers(revoking.Assignment);
        Assert.Equal(3, kept.Length);

        // Until a's heartbeat no longer lists them, b still gets nothing.
        Assert.Empty(Numbers(Heartbeat("b", b.MemberEpoch, owned: []).Assignment));
        Assert.Equal(1, Heartbeat("a", 1, owned: Orders(0, 1, 2, 3, 4, 5)).MemberEpoch);
        Assert.Empty(Numbers(Heartbeat("b", b.MemberEpoch, owned: []).Assignment));

        // a acknowledges (owns only what it kept) and moves to epoch 2; then b gets the rest.
        var acknowledged = Heartbeat("a", 1, owned: Orders(kept));
        Assert.Equal(2, acknowledged.MemberEpoch);
        var taken = Numbers(Heartbeat("b", 2, owned: []).Assignment);
        Assert.Equal(3, taken.Length);
        Assert.Empty(kept.Intersect(taken));

        var described = _group.DescribeConsumer();
        Assert.Equal("Stable", described.State);
        Assert.Equal(2, described.GroupEpoch);
    }

    [Fact]
    public void The_range_assignor_is_used_when_members_ask_for_it()
    {
        Join("a", assignor: "range");
        var b = Join("b", assignor: "range");
        Heartbeat("a", 1, owned: Orders(0, 1, 2, 3, 4, 5));

        var described = _group.DescribeConsumer();
        Assert.Equal("range", described.Assignor);
        Assert.Equal([0, 1, 2], Numbers(described.Members.Single(m => m.MemberId == "a").TargetAssignment));
        Assert.Equal([3, 4, 5], Numbers(described.Members.Single(m => m.MemberId == "b").TargetAssignment));
        Assert.Equal(2, b.MemberEpoch);
    }

    [Fact]
    public void The_uniform_assignor_is_balanced_and_keeps_partitions_where_they_are()
    {
        Join("a");
        Join("b");
        Join("c");
        var before = _group.DescribeConsumer().Members.ToDictionary(m => m.MemberId, m => Numbers(m.TargetAssignment));
        Assert.All(before.Values, partitions => Assert.Equal(2, partitions.Length));

        Heartbeat("c", -1);

        var after = _group.DescribeConsumer().Members.ToDictionary(m => m.MemberId, m => Numbers(m.TargetAssignment));
        Assert.Equal(3, after["a"].Length);
        Assert.Equal(3, after["b"].Length);
        Assert.Empty(before["a"].Except(after["a"]));
        Assert.Empty(before["b"].Except(after["b"]));
    }

    [Fact]
    public void A_subscribed_topic_that_gains_partitions_moves_the_group_epoch()
    {
        Join("a");

        Topics(("orders", 8));

        var described = _group.DescribeConsumer();
        Assert.Equal(2, described.GroupEpoch);
        Assert.Equal(8, described.Members[0].TargetAssignment.Count);
        Assert.Equal(8, Numbers(Heartbeat("a", 1, owned: Orders(0, 1, 2, 3, 4, 5)).Assignment).Length);
    }

    // ---- leaving, sessions, rebalance timeouts ----

    [Fact]
    public void A_member_that_misses_its_session_timeout_is_removed_and_its_partitions_go_to_the_others()
    {
        Join("a");
        Join("b");
        var a = Heartbeat("a", 1, owned: Orders(0, 1, 2, 3, 4, 5));
        var kept = Numbers(a.Assignment);
        Heartbeat("a", 1, owned: Orders(kept));
        Heartbeat("b", 2, owned: []);

        // a keeps heartbeating, b falls silent.
        for (var t = 0; t < SessionMs + HeartbeatMs; t += HeartbeatMs)
        {
            Advance(HeartbeatMs);
            Heartbeat("a", _group.DescribeConsumer().Members.Single(m => m.MemberId == "a").MemberEpoch, owned: Orders(kept));
        }

        var described = _group.DescribeConsumer();
        var only = Assert.Single(described.Members);
        Assert.Equal("a", only.MemberId);
        Assert.Equal([0, 1, 2, 3, 4, 5], Numbers(only.Assignment));
        Assert.Equal(ErrorCode.UnknownMemberId, Heartbeat("b", 2).Error);
    }

    [Fact]
    public void A_member_that_does_not_revoke_within_its_rebalance_timeout_is_removed()
    {
        Join("a");
        Join("b");
        Heartbeat("a", 1, owned: Orders(0, 1, 2, 3, 4, 5)); // told to revoke; never acknowledges

        for (var t = 0; t <= 60_000; t += HeartbeatMs)
        {
            Advance(HeartbeatMs);
            if (_group.DescribeConsumer().Members.Any(m => m.MemberId == "a")) Heartbeat("a", 1, owned: Orders(0, 1, 2, 3, 4, 5));
            Heartbeat("b", 2, owned: []);
        }

        var only = Assert.Single(_group.DescribeConsumer().Members);
        Assert.Equal("b", only.MemberId);
        Assert.Equal(6, only.Assignment.Count);
    }

    [Fact]
    public void Leaving_with_epoch_minus_one_releases_the_partitions_at_once()
    {
        Join("a");
        Join("b");

        var left = Heartbeat("a", -1);

        Assert.Equal(ErrorCode.None, left.Error);
        Assert.Equal(-1, left.MemberEpoch);
        Assert.Equal(6, Numbers(Heartbeat("b", 2, owned: []).Assignment).Length);
    }

    [Fact]
    public void Wrong_epochs_unknown_members_and_unknown_assignors_get_Kafkas_errors()
    {
        Join("a");

        Assert.Equal(ErrorCode.FencedMemberEpoch, Heartbeat("a", 7).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, Heartbeat("nobody", 1).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, Heartbeat("nobody", -1).Error);
        Assert.Equal(ErrorCode.UnsupportedAssignor, Heartbeat("b", 0, topics: ["orders"], assignor: "roundrobin").Error);
        Assert.Equal(ErrorCode.InvalidRequest, Heartbeat("c", 0).Error); // joining without a subscription
    }

    [Fact]
    public void A_heartbeat_from_the_previous_epoch_whose_reply_was_lost_is_accepted()
    {
        Join("a");
        Join("b");
        var kept = Numbers(Heartbeat("a", 1, owned: Orders(0, 1, 2, 3, 4, 5)).Assignment);
        Assert.Equal(2, Heartbeat("a", 1, owned: Orders(kept)).MemberEpoch);

        // The reply that moved a to epoch 2 was lost: it asks again with epoch 1 and what it owns.
        var again = Heartbeat("a", 1, owned: Orders(kept));

        Assert.Equal(ErrorCode.None, again.Error);
        Assert.Equal(2, again.MemberEpoch);
    }

    // ---- offsets ----

    [Fact]
    public void Commits_are_fenced_by_member_epoch()
    {
        Join("a");
        Join("b");
        OffsetCommitResponse Commit(string member, int epoch) => Carry<OffsetCommitResponse>(_group.Commit(
            new OffsetCommitRequest("g", epoch, member, [new OffsetCommitPartition("orders", 0, 10, null)]) { KeepsNegativeOffsets = true }));

        Assert.Equal(ErrorCode.None, Assert.Single(Commit("a", 1).Results).Error);
        Assert.Equal(ErrorCode.FencedMemberEpoch, Commit("a", 2).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, Commit("nobody", 1).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, Commit("", -1).Error); // from outside while the group has members

        var kept = Numbers(Heartbeat("a", 1, owned: Orders(0, 1, 2, 3, 4, 5)).Assignment);
        Heartbeat("a", 1, owned: Orders(kept)); // a moves to epoch 2
        Assert.Equal(ErrorCode.StaleMemberEpoch, Commit("a", 1).Error);
        Assert.Equal(ErrorCode.None, Commit("a", 2).Error);
    }

    // ---- classic or consumer ----

    [Fact]
    public void A_classic_member_joining_a_consumer_group_is_refused_with_InconsistentGroupProtocol()
    {
        Join("a");

        var join = Carry<JoinGroupResponse>(_group.Join(GroupRequests.Join("g", "", ["orders"], "range", 10_000, null)));

        Assert.Equal(ErrorCode.InconsistentGroupProtocol, join.Error);
        Assert.Single(_group.DescribeConsumer().Members);
    }

    [Fact]
    public void A_consumer_heartbeat_into_a_classic_group_is_refused_as_not_a_consumer_group()
    {
        var classic = new GroupCoordinator("g", Settings, _clock);
        classic.TopicsChanged(new Dictionary<string, int> { ["orders"] = 6 });
        classic.Join(GroupRequests.Join("g", "", ["orders"], "range", 10_000, null)); // a classic member, its join pending

        var refused = Heartbeat("x", 0, owned: [], topics: ["orders"], group: classic);

        Assert.Equal(ErrorCode.UnknownGroup, refused.Error);
        Assert.Contains("not a consumer group", refused.ErrorMessage);
        Assert.Equal(ErrorCode.UnknownGroup, classic.DescribeConsumer().Error);
    }

    // ---- recovery ----

    [Fact]
    public void Replaying_the_records_restores_members_epochs_and_assignments_and_silent_members_expire_later()
    {
        Join("a");
        Join("b");
        var kept = Numbers(Heartbeat("a", 1, owned: Orders(0, 1, 2, 3, 4, 5)).Assignment);
        Heartbeat("a", 1, owned: Orders(kept));
        Heartbeat("b", 2, owned: []);
        var before = _group.DescribeConsumer();

        // Through the bytes written to __consumer_offsets, as a new coordinator reads them.
        var batch = GroupRecords.Encode("g", _journal, 0);
        var read = new List<(string GroupId, IServerMessage Event)>();
        GroupRecords.Decode(batch, 0, read);
        var recovered = new GroupCoordinator("g", Settings, _clock);
        foreach (var (_, e) in read) recovered.Apply(e);
        recovered.Recovered();
        Assert.Empty(recovered.TopicsChanged(new Dictionary<string, int> { ["orders"] = 6 }).Events); // no rebalance for reading the group back

        var after = recovered.DescribeConsumer();
        Assert.Equal(before, after with { Members = before.Members }); // same epochs, state, assignor
        Assert.Equal(before.Members.Select(m => (m.MemberId, m.MemberEpoch, Numbers(m.Assignment).Length)), after.Members.Select(m => (m.MemberId, m.MemberEpoch, Numbers(m.Assignment).Length)));
        Assert.Equal(ErrorCode.None, Heartbeat("a", 2, group: recovered).Error);

        // b never heartbeats to the new coordinator: it expires after a full session, and a gets everything.
        for (var t = 0; t <= SessionMs; t += HeartbeatMs)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(HeartbeatMs));
            recovered.Tick();
            Heartbeat("a", recovered.DescribeConsumer().Members.Single(m => m.MemberId == "a").MemberEpoch, owned: Orders(kept), group: recovered);
        }
        Assert.Equal(6, Assert.Single(recovered.DescribeConsumer().Members).Assignment.Count);
    }

    [Fact]
    public void A_checkpoint_alone_restores_the_members_so_the_log_below_it_can_be_deleted()
    {
        Join("a");
        Join("b");
        var before = _group.DescribeConsumer();

        // A checkpoint's events, and nothing older: what a new coordinator reads once the log start has moved to it.
        var batch = GroupRecords.Encode("g", _group.Checkpoint().Events, 0);
        var read = new List<(string GroupId, IServerMessage Event)>();
        GroupRecords.Decode(batch, 0, read);
        var recovered = new GroupCoordinator("g", Settings, _clock);
        foreach (var (_, e) in read) recovered.Apply(e);
        recovered.Recovered();

        var after = recovered.DescribeConsumer();
        Assert.Equal((before.GroupEpoch, before.AssignmentEpoch), (after.GroupEpoch, after.AssignmentEpoch));
        Assert.Equal(before.Members.Select(m => (m.MemberId, m.MemberEpoch)).Order(), after.Members.Select(m => (m.MemberId, m.MemberEpoch)).Order());
    }
}
