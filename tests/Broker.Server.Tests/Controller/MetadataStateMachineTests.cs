using System.Collections.Immutable;
using Broker.Server.Controller;
using Xunit;

namespace Broker.Server.Tests.Controller;

/// <summary>The controller's rules, record by record: millisecond tests of every check and every invariant.</summary>
public sealed class MetadataStateMachineTests
{
    private const string TopicId = "tid-1";
    private readonly MetadataStateMachine _sm = new();
    private long _index;
    private readonly Dictionary<int, long> _epochs = [];

    private MetadataResult Apply(MetadataRecord record) => _sm.Apply(record, ++_index);

    private long Register(int broker, Guid? incarnation = null, long? previous = null)
    {
        var result = Assert.IsType<BrokerRegistered>(Apply(new RegisterBroker(broker, incarnation ?? Guid.NewGuid(), previous ?? (_epochs.TryGetValue(broker, out var e) ? e : -1))));
        _epochs[broker] = result.BrokerEpoch;
        return result.BrokerEpoch;
    }

    private void RegisterUnfenced(params int[] brokers)
    {
        foreach (var b in brokers)
        {
            Register(b);
            Assert.IsType<BrokerFenceChanged>(Apply(new UnfenceBroker(b, _epochs[b])));
        }
    }

    private void CreateTopic(string name = "orders", string topicId = TopicId, string? unclean = null, params int[][] assignments)
    {
        var configs = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);
        if (unclean is not null) configs = configs.Add("unclean.leader.election.enable", unclean);
        var assigned = assignments.Length == 0 ? [[1, 2, 3]] : assignments;
        Assert.IsType<TopicCreated>(Apply(new CreateTopic(name, topicId, (short)assigned[0].Length, configs, [.. assigned.Select(a => a.ToImmutableArray())])));
    }

    private PartitionImage State(int partition = 0) => _sm.Image.Partition(TopicId, partition)!;

    private MetadataResult Alter(int leader, ImmutableArray<int> isr, int? leaderEpoch = null, int? partitionEpoch = null, long? brokerEpoch = null, int partition = 0)
    {
        var s = State(partition);
        return Apply(new AlterPartition(TopicId, partition, leader, brokerEpoch ?? _epochs[leader], leaderEpoch ?? s.LeaderEpoch, partitionEpoch ?? s.PartitionEpoch, isr));
    }

    private static Refused Refused(MetadataResult result, MetadataError error)
    {
        var refused = Assert.IsType<Refused>(result);
        Assert.Equal(error, refused.Error);
        return refused;
    }

    private void Fence(int broker) => Assert.IsType<BrokerFenceChanged>(Apply(new FenceBroker(broker, _epochs[broker])));

    private void Unfence(int broker) => Assert.IsType<BrokerFenceChanged>(Apply(new UnfenceBroker(broker, _epochs[broker])));

    // ---- brokers ----

    [Fact]
    public void A_broker_registers_fenced_with_a_new_epoch_each_incarnation_and_the_same_one_on_retry()
    {
        var incarnation = Guid.NewGuid();
        var first = Register(1, incarnation);
        Assert.True(_sm.Image.Brokers[1].Fenced);
        Assert.Equal(first, Register(1, incarnation));
        var second = Register(1);
        Assert.True(second > first);
    }

    [Fact]
    public void Fence_and_unfence_from_an_earlier_registration_are_refused()
    {
        var old = Register(1);
        Register(1, previous: old);
        Refused(Apply(new UnfenceBroker(1, old)), MetadataError.StaleBrokerEpoch);
        Refused(Apply(new FenceBroker(1, old)), MetadataError.StaleBrokerEpoch);
        Refused(Apply(new FenceBroker(9, 1)), MetadataError.UnknownBroker);
        Assert.True(_sm.Image.Brokers[1].Fenced);
    }

    // ---- topics ----

    [Fact]
    public void A_new_topic_is_led_by_its_first_unfenced_replica_with_the_unfenced_replicas_in_sync()
    {
        RegisterUnfenced(2, 3);
        Register(1); // fenced
        CreateTopic();
        Assert.Equal(new PartitionImage(2, 0, 0, [2, 3]), State() with { Isr = State().Isr }, new PartitionComparer());
    }

    [Fact]
    public void Topic_creation_refuses_duplicates_bad_assignments_and_all_fenced_replicas()
    {
        RegisterUnfenced(1, 2, 3);
        CreateTopic();
        var none = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);
        Refused(Apply(new CreateTopic("orders", "other", 3, none, [[1, 2, 3]])), MetadataError.TopicAlreadyExists);
        Refused(Apply(new CreateTopic("other", TopicId, 3, none, [[1, 2, 3]])), MetadataError.TopicAlreadyExists);
        Refused(Apply(new CreateTopic("b", "b", 3, none, [[1, 2]])), MetadataError.InvalidReplicaAssignment);
        Refused(Apply(new CreateTopic("c", "c", 2, none, [[1, 1]])), MetadataError.InvalidReplicaAssignment);
        Refused(Apply(new CreateTopic("d", "d", 2, none, [[1, 7]])), MetadataError.InvalidReplicaAssignment);
        Refused(Apply(new CreateTopic("bad name!", "e", 1, none, [[1]])), MetadataError.InvalidRequest);
        Register(4);
        Refused(Apply(new CreateTopic("f", "f", 1, none, [[4]])), MetadataError.NoEligibleLeader);
        Assert.Single(_sm.Image.Topics);
    }

    [Fact]
    public void A_deleted_topic_refuses_writes_for_its_id_even_once_its_name_is_created_again()
    {
        RegisterUnfenced(1, 2, 3);
        CreateTopic();
        var old = State();
        Assert.IsType<TopicDeleted>(Apply(new DeleteTopic(TopicId)));
        CreateTopic(topicId: "tid-2");
        Refused(Apply(new AlterPartition(TopicId, 0, 1, _epochs[1], old.LeaderEpoch, old.PartitionEpoch, [1, 2])), MetadataError.UnknownTopicOrPartition);
        Refused(Apply(new DeleteTopic(TopicId)), MetadataError.UnknownTopicOrPartition);
    }

    // ---- AlterPartition (KIP-497) ----

    [Fact]
    public void An_isr_change_from_the_leader_is_committed_and_bumps_only_the_partition_epoch()
    {
        RegisterUnfenced(1, 2, 3);
        CreateTopic();
        var changed = Assert.IsType<PartitionChanged>(Alter(1, [1, 3]));
        Assert.Equal<int>([1, 3], changed.State.Isr);
        Assert.Equal(0, changed.State.LeaderEpoch);
        Assert.Equal(1, changed.State.PartitionEpoch);
        Assert.Equal(changed.State, State());
    }

    [Fact]
    public void A_stale_isr_write_is_refused_and_a_committed_isr_change_never_reverts()
    {
        RegisterUnfenced(1, 2, 3);
        CreateTopic();
        var before = State();
        Assert.IsType<PartitionChanged>(Alter(1, [1, 2])); // shrink: 3 fell behind
        var committed = State();
        // The same leader retrying its older view (partition epoch 0) must not bring 3 back.
        Refused(Alter(1, [1, 2, 3], partitionEpoch: before.PartitionEpoch), MetadataError.InvalidUpdateVersion);
        Assert.Equal(committed, State());
    }

    [Fact]
    public void An_isr_write_from_a_deposed_leader_is_refused_with_a_fenced_leader_epoch()
    {
        RegisterUnfenced(1, 2, 3);
        CreateTopic();
        var old = State();
        Fence(1); // leader 1 lost: 2 takes over with a new epoch
        Assert.Equal(2, State().Leader);
        Unfence(1);
        Refused(Apply(new AlterPartition(TopicId, 0, 1, _epochs[1], old.LeaderEpoch, old.PartitionEpoch, [1])), MetadataError.FencedLeaderEpoch);
        Refused(Alter(1, [1, 2], leaderEpoch: State().LeaderEpoch + 1), MetadataError.UnknownLeaderEpoch);
        Assert.Equal<int>([2, 3], State().Isr);
    }

    [Fact]
    public void An_isr_write_from_a_broker_that_does_not_lead_or_from_an_old_registration_is_refused()
    {
        RegisterUnfenced(1, 2, 3);
        CreateTopic();
        Refused(Alter(2, [2, 3]), MetadataError.NotLeader);
        var old = _epochs[1];
        Refused(Alter(1, [1], brokerEpoch: old + 100), MetadataError.StaleBrokerEpoch);
    }

    [Fact]
    public void An_isr_without_its_leader_or_with_an_ineligible_replica_is_refused()
    {
        RegisterUnfenced(1, 2, 3, 4);
        CreateTopic();
        Refused(Alter(1, [2, 3]), MetadataError.InvalidRequest);
        Refused(Alter(1, []), MetadataError.InvalidRequest);
        Refused(Alter(1, [1, 4]), MetadataError.IneligibleReplica); // not a replica
        Assert.IsType<PartitionChanged>(Alter(1, [1, 2]));
        Fence(3);
        Refused(Alter(1, [1, 2, 3]), MetadataError.IneligibleReplica); // fenced
        Assert.Equal<int>([1, 2], State().Isr);
    }

    [Fact]
    public void An_unchanged_isr_is_answered_with_the_current_state_and_changes_nothing()
    {
        RegisterUnfenced(1, 2, 3);
        CreateTopic();
        var before = State();
        var result = Assert.IsType<PartitionChanged>(Alter(1, [3, 2, 1]));
        Assert.Same(before, result.State);
    }

    // ---- fencing and elections ----

    [Fact]
    public void The_leader_epoch_bumps_on_every_leader_change()
    {
        RegisterUnfenced(1, 2, 3);
        CreateTopic();
        var epochs = new List<int> { State().LeaderEpoch };
        Fence(1);
        epochs.Add(State().LeaderEpoch);
        Assert.Equal(2, State().Leader);
        Unfence(1);
        Assert.IsType<PartitionChanged>(Alter(2, [1, 2, 3]));
        Assert.IsType<PartitionChanged>(Apply(new ElectLeader(TopicId, 0, ElectionType.Preferred)));
        Assert.Equal(1, State().Leader);
        epochs.Add(State().LeaderEpoch);
        Assert.Equal([0, 1, 2], epochs);
        Refused(Apply(new ElectLeader(TopicId, 0, ElectionType.Preferred)), MetadataError.ElectionNotNeeded);
        Refused(Apply(new ElectLeader(TopicId, 0, ElectionType.Clean)), MetadataError.ElectionNotNeeded);
    }

    [Fact]
    public void The_last_isr_member_stays_when_fenced_and_the_partition_waits_offline_for_it()
    {
        RegisterUnfenced(1, 2, 3);
        CreateTopic();
        Assert.IsType<PartitionChanged>(Alter(1, [1]));
        Fence(2);
        Fence(3);
        Fence(1);
        Assert.True(State().Offline);
        Assert.Equal<int>([1], State().Isr);
        var offlineEpoch = State().LeaderEpoch;
        Unfence(2); // out of sync: must not lead
        Refused(Apply(new ElectLeader(TopicId, 0, ElectionType.Clean)), MetadataError.NoEligibleLeader);
        Assert.True(State().Offline);
        Register(1); // a clean restart: it carries its previous epoch
        Unfence(1);
        Assert.Equal(1, State().Leader);
        Assert.Equal(offlineEpoch + 1, State().LeaderEpoch);
    }

    [Fact]
    public void A_fenced_broker_is_never_elected()
    {
        RegisterUnfenced(1, 2, 3);
        CreateTopic();
        Fence(2);
        Fence(1);
        Assert.Equal(3, State().Leader);
        Fence(3);
        Assert.True(State().Offline);
        Refused(Apply(new ElectLeader(TopicId, 0, ElectionType.Clean)), MetadataError.NoEligibleLeader);
        Refused(Apply(new ElectLeader(TopicId, 0, ElectionType.Unclean)), MetadataError.NoEligibleLeader);
        Refused(Apply(new ElectLeader(TopicId, 0, ElectionType.Preferred)), MetadataError.PreferredLeaderNotAvailable);
    }

    /// <summary>
    /// Issue 18's reproduction: broker 1 is lost while 2 and 3 take writes, the whole cluster stops, and 1 comes back
    /// first and alone. Its old view (ISR {1,2,3}) is not what was committed: it is out of the ISR, so it cannot lead
    /// whatever it asks, until a broker that holds the acknowledged data is back.
    /// </summary>
    [Fact]
    public void A_lone_stale_broker_can_never_become_leader_over_a_newer_committed_state()
    {
        RegisterUnfenced(1, 2, 3);
        CreateTopic();
        var stale = State();
        Fence(1);
        Assert.IsType<PartitionChanged>(Alter(2, [2, 3]));
        Fence(3);
        Fence(2);
        var committed = State();
        Assert.True(committed.Offline);
        Register(1);
        Unfence(1);
        Assert.True(State().Offline);
        Refused(Apply(new ElectLeader(TopicId, 0, ElectionType.Clean)), MetadataError.NoEligibleLeader);
        Refused(Apply(new ElectLeader(TopicId, 0, ElectionType.Preferred)), MetadataError.PreferredLeaderNotAvailable);
        Refused(Apply(new AlterPartition(TopicId, 0, 1, _epochs[1], stale.LeaderEpoch, stale.PartitionEpoch, [1, 2, 3])), MetadataError.FencedLeaderEpoch);
        Assert.Equal(committed, State());
        Register(2);
        Unfence(2);
        Assert.Equal(2, State().Leader);
        Assert.True(State().LeaderEpoch > committed.LeaderEpoch);
    }

    [Fact]
    public void A_broker_that_lost_its_log_leaves_every_isr_even_as_its_last_member()
    {
        RegisterUnfenced(1, 2, 3);
        CreateTopic();
        Assert.IsType<PartitionChanged>(Alter(1, [1]));
        Register(1, previous: -1); // a wiped data directory: no previous epoch
        Unfence(1);
        Assert.Empty(State().Isr);
        Assert.True(State().Offline);
        Refused(Apply(new ElectLeader(TopicId, 0, ElectionType.Clean)), MetadataError.NoEligibleLeader);
    }

    [Fact]
    public void A_re_registering_leader_hands_leadership_to_another_isr_member()
    {
        RegisterUnfenced(1, 2, 3);
        CreateTopic();
        Register(1);
        Assert.Equal(2, State().Leader);
        Assert.Equal<int>([2, 3], State().Isr);
        Assert.Equal(1, State().LeaderEpoch);
    }

    [Fact]
    public void Unclean_election_needs_the_topic_config_or_an_explicit_request_and_resets_the_isr()
    {
        RegisterUnfenced(1, 2, 3);
        CreateTopic(unclean: "true");
        Assert.IsType<PartitionChanged>(Alter(1, [1]));
        Fence(1);
        Assert.True(State().Offline);
        var clean = Assert.IsType<PartitionChanged>(Apply(new ElectLeader(TopicId, 0, ElectionType.Clean)));
        Assert.Equal(2, clean.State.Leader);
        Assert.Equal<int>([2], clean.State.Isr);

        var other = new MetadataStateMachine();
        foreach (var (record, i) in new MetadataRecord[]
                 {
                     new RegisterBroker(1, Guid.NewGuid(), -1), new RegisterBroker(2, Guid.NewGuid(), -1),
                     new UnfenceBroker(1, 1), new UnfenceBroker(2, 2),
                     new CreateTopic("t", "x", 2, ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal), [[1, 2]]),
                     new AlterPartition("x", 0, 1, 1, 0, 0, [1]), new FenceBroker(1, 1),
                 }.Select((r, i) => (r, i)))
        {
            Assert.True(other.Apply(record, i + 1).Accepted, record.ToString());
        }
        Refused(other.Apply(new ElectLeader("x", 0, ElectionType.Clean), 8), MetadataError.NoEligibleLeader);
        Assert.Equal(2, Assert.IsType<PartitionChanged>(other.Apply(new ElectLeader("x", 0, ElectionType.Unclean), 9)).State.Leader);
    }

    // ---- reassignment ----

    [Fact]
    public void A_reassignment_completes_when_the_target_is_in_sync_and_moves_leadership_into_it()
    {
        RegisterUnfenced(1, 2, 3, 4);
        CreateTopic();
        var moving = Assert.IsType<PartitionChanged>(Apply(new Reassign(TopicId, 0, [4, 2, 3])));
        Assert.Equal<int>([4, 2, 3, 1], _sm.Image.TopicById(TopicId)!.Assignments[0]);
        Assert.Equal(1, moving.State.Leader);
        Refused(Apply(new Reassign(TopicId, 0, [2, 3, 4])), MetadataError.ReassignmentInProgress);
        var done = Assert.IsType<PartitionChanged>(Alter(1, [1, 2, 3, 4]));
        Assert.Equal(4, done.State.Leader);
        Assert.Equal<int>([4, 2, 3], done.State.Isr);
        Assert.Equal(1, done.State.LeaderEpoch);
        var topic = _sm.Image.TopicById(TopicId)!;
        Assert.Equal<int>([4, 2, 3], topic.Assignments[0]);
        Assert.Empty(topic.Reassigning);
    }

    [Fact]
    public void A_reassignment_is_refused_for_a_wrong_size_or_an_unknown_broker()
    {
        RegisterUnfenced(1, 2, 3);
        CreateTopic();
        Refused(Apply(new Reassign(TopicId, 0, [1, 2])), MetadataError.InvalidReplicaAssignment);
        Refused(Apply(new Reassign(TopicId, 0, [1, 2, 9])), MetadataError.InvalidReplicaAssignment);
        Refused(Apply(new Reassign(TopicId, 5, [1, 2, 3])), MetadataError.UnknownTopicOrPartition);
    }

    // ---- producer ids ----

    [Fact]
    public void Producer_id_blocks_never_overlap_and_stale_brokers_get_none()
    {
        RegisterUnfenced(1, 2);
        var a = Assert.IsType<ProducerIdsAllocated>(Apply(new AllocateProducerIds(1, _epochs[1], 1000)));
        var b = Assert.IsType<ProducerIdsAllocated>(Apply(new AllocateProducerIds(2, _epochs[2], 1000)));
        Assert.Equal(a.FirstProducerId + 1000, b.FirstProducerId);
        Refused(Apply(new AllocateProducerIds(1, _epochs[1] + 50, 1000)), MetadataError.StaleBrokerEpoch);
        Refused(Apply(new AllocateProducerIds(1, _epochs[1], 0)), MetadataError.InvalidRequest);
        Assert.Equal(2000, _sm.Image.NextProducerId);
    }

    [Fact]
    public void Apply_is_deterministic_and_a_refusal_changes_nothing_but_the_applied_index()
    {
        RegisterUnfenced(1, 2, 3);
        CreateTopic();
        var before = _sm.Image;
        Refused(Alter(2, [2]), MetadataError.NotLeader);
        Assert.Equal(before with { AppliedIndex = _index }, _sm.Image);
        Assert.Equal(_index, _sm.Image.AppliedIndex);
    }

    private sealed class PartitionComparer : IEqualityComparer<PartitionImage>
    {
        public bool Equals(PartitionImage? x, PartitionImage? y) =>
            x is not null && y is not null && x.Leader == y.Leader && x.LeaderEpoch == y.LeaderEpoch && x.PartitionEpoch == y.PartitionEpoch && x.Isr.SequenceEqual(y.Isr);

        public int GetHashCode(PartitionImage obj) => obj.Leader;
    }
}
