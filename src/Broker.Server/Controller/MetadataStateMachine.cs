using System.Collections.Immutable;

namespace Broker.Server.Controller;

/// <summary>
/// The rules of the cluster metadata (Kafka's <c>ReplicationControlManager</c>, <c>ClusterControlManager</c> and
/// <c>PartitionChangeBuilder</c> in one plain class): applies committed records in log order to an immutable
/// <see cref="MetadataImage"/>. Apply is deterministic (no clock, no randomness, sorted iteration), so every
/// voter that applies the same log holds the same image; a failed check is a <see cref="Refused"/> result and
/// changes nothing.
///
/// Invariants kept here: the leader of a partition is in its ISR and unfenced; the leader epoch grows with every
/// leader change and the partition epoch with every change, so an ISR change is a compare-and-set on both; an ISR
/// only grows through the leader (AlterPartition) with unfenced, assigned replicas; a broker that may have lost its
/// log leaves every ISR; a clean election picks only from the ISR.
/// </summary>
public sealed class MetadataStateMachine
{
    public MetadataStateMachine(MetadataImage? image = null) => Image = image ?? MetadataImage.Empty;

    public MetadataImage Image { get; private set; }

    private long _index; // of the record being applied: a registration remembers it

    /// <summary>Applies the record committed at log <paramref name="index"/> (which must grow) and says what it did.</summary>
    public MetadataResult Apply(MetadataRecord record, long index)
    {
        _index = index;
        var (result, image) = Decide(record);
        Image = (image ?? Image) with { AppliedIndex = Math.Max(index, Image.AppliedIndex) };
        return result;
    }

    private (MetadataResult, MetadataImage?) Decide(MetadataRecord record) => record switch
    {
        RegisterBroker r => Register(r),
        FenceBroker f => Fence(f),
        UnfenceBroker u => Unfence(u),
        CreateTopic c => Create(c),
        DeleteTopic d => Delete(d),
        AlterPartition a => Alter(a),
        ElectLeader e => Elect(e),
        Reassign r => BeginReassign(r),
        AllocateProducerIds p => AllocateIds(p),
        PutEntries p => Put(p),
        _ => (Refuse(MetadataError.InvalidRequest, $"unknown record {record.GetType().Name}"), null),
    };

    private static (MetadataResult, MetadataImage?) Refusal(MetadataError error, string message) => (Refuse(error, message), null);

    private static Refused Refuse(MetadataError error, string message) => new(error, message);

    // ---- brokers ----

    private (MetadataResult, MetadataImage?) Register(RegisterBroker r)
    {
        if (r.BrokerId <= 0) return Refusal(MetadataError.InvalidRequest, $"broker id must be positive, got {r.BrokerId}");
        var image = Image;
        image.Brokers.TryGetValue(r.BrokerId, out var existing);
        if (existing is not null && existing.IncarnationId == r.IncarnationId)
            return (new BrokerRegistered(r.BrokerId, existing.BrokerEpoch), null); // a retried registration
        var epoch = image.LastBrokerEpoch + 1;
        image = image with
        {
            LastBrokerEpoch = epoch,
            Brokers = image.Brokers.SetItem(r.BrokerId, new BrokerImage(r.BrokerId, epoch, r.IncarnationId, Fenced: true, RegisteredAt: _index)),
        };
        // A broker whose directory did not carry its last registration's epoch may have lost its log: it must not
        // count as in sync anywhere (KAFKA-15586). A brand-new broker id is in no ISR, so this changes nothing for it.
        var lostLog = existing is not null && r.PreviousBrokerEpoch != existing.BrokerEpoch;
        image = RemoveFromPartitions(image, r.BrokerId, keepLastIsrMember: !lostLog);
        return (new BrokerRegistered(r.BrokerId, epoch), image);
    }

    private (MetadataResult, MetadataImage?) Fence(FenceBroker f)
    {
        if (CheckBrokerEpoch(f.BrokerId, f.BrokerEpoch) is { } refused) return (refused, null);
        var image = Image;
        var broker = image.Brokers[f.BrokerId];
        if (!broker.Fenced) image = image with { Brokers = image.Brokers.SetItem(f.BrokerId, broker with { Fenced = true }) };
        image = RemoveFromPartitions(image, f.BrokerId, keepLastIsrMember: true);
        return (new BrokerFenceChanged(f.BrokerId, Fenced: true), image);
    }

    private (MetadataResult, MetadataImage?) Unfence(UnfenceBroker u)
    {
        if (CheckBrokerEpoch(u.BrokerId, u.BrokerEpoch) is { } refused) return (refused, null);
        var image = Image;
        var broker = image.Brokers[u.BrokerId];
        image = image with { Brokers = image.Brokers.SetItem(u.BrokerId, broker with { Fenced = false }) };
        // Offline partitions whose ISR holds this broker get it as leader: it was in sync when the ISR last changed.
        foreach (var topic in image.Topics.Values)
        {
            var partitions = topic.Partitions;
            for (var p = 0; p < partitions.Length; p++)
            {
                var state = partitions[p];
                if (!state.Offline || !state.Isr.Contains(u.BrokerId)) continue;
                var leader = ChooseCleanLeader(image, topic.Assignments[p], state.Isr);
                if (leader != PartitionImage.NoLeader)
                    partitions = partitions.SetItem(p, state with { Leader = leader, LeaderEpoch = state.LeaderEpoch + 1, PartitionEpoch = state.PartitionEpoch + 1 });
            }
            if (partitions != topic.Partitions) image = WithTopic(image, topic with { Partitions = partitions });
        }
        return (new BrokerFenceChanged(u.BrokerId, Fenced: false), image);
    }

    private Refused? CheckBrokerEpoch(int brokerId, long brokerEpoch)
    {
        if (!Image.Brokers.TryGetValue(brokerId, out var broker))
            return Refuse(MetadataError.UnknownBroker, $"broker {brokerId} is not registered");
        return broker.BrokerEpoch == brokerEpoch
            ? null
            : Refuse(MetadataError.StaleBrokerEpoch, $"broker {brokerId} is registered with epoch {broker.BrokerEpoch}, not {brokerEpoch}");
    }

    /// <summary>
    /// Takes <paramref name="brokerId"/> out of every ISR, and out of leadership. The last ISR member stays in the ISR
    /// (the partition goes offline instead: only it holds everything acknowledged), unless its log may be lost.
    /// </summary>
    private static MetadataImage RemoveFromPartitions(MetadataImage image, int brokerId, bool keepLastIsrMember)
    {
        foreach (var topic in image.Topics.Values)
        {
            var partitions = topic.Partitions;
            for (var p = 0; p < partitions.Length; p++)
            {
                var state = partitions[p];
                if (!state.Isr.Contains(brokerId) && state.Leader != brokerId) continue;
                var isr = state.Isr.Length > 1 || !keepLastIsrMember ? state.Isr.Remove(brokerId) : state.Isr;
                var leader = state.Leader;
                if (leader == brokerId || !isr.Contains(leader)) leader = ChooseCleanLeader(image, topic.Assignments[p], isr, exclude: brokerId);
                partitions = partitions.SetItem(p, Changed(state, leader, isr));
            }
            if (partitions != topic.Partitions) image = WithTopic(image, topic with { Partitions = partitions });
        }
        return image;
    }

    // ---- topics ----

    private (MetadataResult, MetadataImage?) Create(CreateTopic c)
    {
        if (Topics.TopicConfig.ValidateName(c.Name) is { } invalidName) return Refusal(MetadataError.InvalidRequest, invalidName);
        if (string.IsNullOrEmpty(c.TopicId)) return Refusal(MetadataError.InvalidRequest, "a topic needs an id");
        if (Image.Topics.ContainsKey(c.Name)) return Refusal(MetadataError.TopicAlreadyExists, $"topic '{c.Name}' already exists");
        if (Image.TopicById(c.TopicId) is { } sameId) return Refusal(MetadataError.TopicAlreadyExists, $"topic id {c.TopicId} is taken by '{sameId.Name}'");
        if (c.Assignments.IsDefaultOrEmpty) return Refusal(MetadataError.InvalidReplicaAssignment, $"topic '{c.Name}' needs at least one partition");
        var partitions = ImmutableArray.CreateBuilder<PartitionImage>(c.Assignments.Length);
        for (var p = 0; p < c.Assignments.Length; p++)
        {
            var replicas = c.Assignments[p];
            if (ValidateReplicas($"{c.Name}/{p}", replicas, c.ReplicationFactor) is { } invalid) return (invalid, null);
            // Kafka's rule: the ISR starts as the assigned replicas that are unfenced, led by the first of them.
            var isr = replicas.Where(Image.IsUnfenced).ToImmutableArray();
            if (isr.IsEmpty)
                return Refusal(MetadataError.NoEligibleLeader, $"{c.Name}/{p}: none of the replicas [{string.Join(',', replicas)}] is an unfenced broker");
            partitions.Add(new PartitionImage(isr[0], LeaderEpoch: 0, PartitionEpoch: 0, isr));
        }
        var topic = new TopicImage(c.Name, c.TopicId, c.ReplicationFactor, c.Configs, c.Assignments, partitions.MoveToImmutable(),
            ImmutableSortedDictionary<int, ImmutableArray<int>>.Empty);
        return (new TopicCreated(c.Name, c.TopicId), WithTopic(Image, topic));
    }

    private Refused? ValidateReplicas(string name, ImmutableArray<int> replicas, int replicationFactor)
    {
        if (replicas.IsDefault || replicas.Length != replicationFactor)
            return Refuse(MetadataError.InvalidReplicaAssignment, $"{name} needs {replicationFactor} replicas, got [{(replicas.IsDefault ? "" : string.Join(',', replicas))}]");
        if (replicas.Distinct().Count() != replicas.Length)
            return Refuse(MetadataError.InvalidReplicaAssignment, $"{name}: a broker is named twice in [{string.Join(',', replicas)}]");
        foreach (var id in replicas)
        {
            if (!Image.Brokers.ContainsKey(id)) return Refuse(MetadataError.InvalidReplicaAssignment, $"{name}: broker {id} is not registered");
        }
        return null;
    }

    private (MetadataResult, MetadataImage?) Delete(DeleteTopic d)
    {
        if (Image.TopicById(d.TopicId) is not { } topic) return Refusal(MetadataError.UnknownTopicOrPartition, $"no topic with id {d.TopicId}");
        return (new TopicDeleted(topic.Name, topic.TopicId), Image with { Topics = Image.Topics.Remove(topic.Name) });
    }

    private static MetadataImage WithTopic(MetadataImage image, TopicImage topic) => image with { Topics = image.Topics.SetItem(topic.Name, topic) };

    private Refused? FindPartition(string topicId, int partition, out TopicImage topic)
    {
        topic = Image.TopicById(topicId)!;
        if (topic is null) return Refuse(MetadataError.UnknownTopicOrPartition, $"no topic with id {topicId}");
        return partition < 0 || partition >= topic.PartitionCount
            ? Refuse(MetadataError.UnknownTopicOrPartition, $"topic '{topic.Name}' has {topic.PartitionCount} partitions, not {partition}")
            : null;
    }

    // ---- partitions ----

    private (MetadataResult, MetadataImage?) Alter(AlterPartition a)
    {
        if (FindPartition(a.TopicId, a.Partition, out var topic) is { } unknown) return (unknown, null);
        var name = $"{topic.Name}/{a.Partition}";
        if (CheckBrokerEpoch(a.LeaderId, a.BrokerEpoch) is { } stale) return (stale, null);
        var state = topic.Partitions[a.Partition];
        if (a.LeaderEpoch < state.LeaderEpoch)
            return Refusal(MetadataError.FencedLeaderEpoch, $"{name}: leader epoch {a.LeaderEpoch} is older than the committed {state.LeaderEpoch}");
        if (a.LeaderEpoch > state.LeaderEpoch)
            return Refusal(MetadataError.UnknownLeaderEpoch, $"{name}: leader epoch {a.LeaderEpoch} is ahead of the committed {state.LeaderEpoch}");
        if (a.LeaderId != state.Leader)
            return Refusal(MetadataError.NotLeader, $"{name}: broker {a.LeaderId} does not lead it ({state})");
        if (a.PartitionEpoch != state.PartitionEpoch)
            return Refusal(MetadataError.InvalidUpdateVersion, $"{name}: partition epoch {a.PartitionEpoch} is not the committed {state.PartitionEpoch}");
        if (a.NewIsr.IsDefaultOrEmpty || !a.NewIsr.Contains(a.LeaderId))
            return Refusal(MetadataError.InvalidRequest, $"{name}: the new ISR [{(a.NewIsr.IsDefault ? "" : string.Join(',', a.NewIsr))}] does not hold its leader {a.LeaderId}");
        if (a.NewIsr.Distinct().Count() != a.NewIsr.Length)
            return Refusal(MetadataError.InvalidRequest, $"{name}: a broker is named twice in the new ISR [{string.Join(',', a.NewIsr)}]");
        var assigned = topic.Assignments[a.Partition];
        foreach (var id in a.NewIsr)
        {
            if (!assigned.Contains(id))
                return Refusal(MetadataError.IneligibleReplica, $"{name}: broker {id} holds no replica of it (replicas [{string.Join(',', assigned)}])");
            if (!Image.IsUnfenced(id))
                return Refusal(MetadataError.IneligibleReplica, $"{name}: broker {id} is fenced or not registered, so it cannot be in sync");
        }
        var isr = InAssignmentOrder(assigned, a.NewIsr);
        if (isr.SequenceEqual(state.Isr)) return (new PartitionChanged(a.TopicId, a.Partition, state), null);
        var changed = state with { Isr = isr, PartitionEpoch = state.PartitionEpoch + 1 };
        topic = topic with { Partitions = topic.Partitions.SetItem(a.Partition, changed) };
        topic = MaybeCompleteReassignment(Image, topic, a.Partition);
        return (new PartitionChanged(a.TopicId, a.Partition, topic.Partitions[a.Partition]), WithTopic(Image, topic));
    }

    private (MetadataResult, MetadataImage?) Elect(ElectLeader e)
    {
        if (FindPartition(e.TopicId, e.Partition, out var topic) is { } unknown) return (unknown, null);
        var name = $"{topic.Name}/{e.Partition}";
        var state = topic.Partitions[e.Partition];
        var assigned = topic.Assignments[e.Partition];
        var leaderValid = !state.Offline && Image.IsUnfenced(state.Leader) && state.Isr.Contains(state.Leader);
        int leader;
        var isr = state.Isr;
        switch (e.Type)
        {
            case ElectionType.Preferred:
                var preferred = assigned[0];
                if (state.Leader == preferred) return Refusal(MetadataError.ElectionNotNeeded, $"{name}: broker {preferred} already leads it");
                if (!state.Isr.Contains(preferred) || !Image.IsUnfenced(preferred))
                    return Refusal(MetadataError.PreferredLeaderNotAvailable, $"{name}: the preferred leader {preferred} is fenced or not in the ISR [{string.Join(',', state.Isr)}]");
                leader = preferred;
                break;
            case ElectionType.Clean or ElectionType.Unclean:
                if (leaderValid) return Refusal(MetadataError.ElectionNotNeeded, $"{name}: broker {state.Leader} leads it and is in sync");
                leader = ChooseCleanLeader(Image, assigned, state.Isr);
                if (leader == PartitionImage.NoLeader)
                {
                    if (e.Type != ElectionType.Unclean && !topic.UncleanLeaderElection)
                    {
                        return Refusal(MetadataError.NoEligibleLeader,
                            $"{name}: no member of the ISR [{string.Join(',', state.Isr)}] is an unfenced broker, and unclean.leader.election.enable is off");
                    }
                    leader = FirstUnfenced(Image, assigned, exclude: PartitionImage.NoLeader);
                    if (leader == PartitionImage.NoLeader)
                        return Refusal(MetadataError.NoEligibleLeader, $"{name}: none of the replicas [{string.Join(',', assigned)}] is an unfenced broker");
                    isr = [leader]; // unclean: the new leader's log is the truth from now on
                }
                break;
            default:
                return Refusal(MetadataError.InvalidRequest, $"unknown election type {e.Type}");
        }
        var changed = Changed(state, leader, isr);
        return (new PartitionChanged(e.TopicId, e.Partition, changed), WithTopic(Image, topic with { Partitions = topic.Partitions.SetItem(e.Partition, changed) }));
    }

    /// <summary>The record after a leader/ISR change: the partition epoch always grows, the leader epoch when the leader changes.</summary>
    private static PartitionImage Changed(PartitionImage state, int leader, ImmutableArray<int> isr) =>
        leader == state.Leader && isr.SequenceEqual(state.Isr)
            ? state
            : new PartitionImage(leader, leader == state.Leader ? state.LeaderEpoch : state.LeaderEpoch + 1, state.PartitionEpoch + 1, isr);

    /// <summary>Kafka's clean election: the first ISR member, in assignment order, that is an unfenced broker.</summary>
    private static int ChooseCleanLeader(MetadataImage image, ImmutableArray<int> assigned, ImmutableArray<int> isr, int exclude = PartitionImage.NoLeader)
    {
        foreach (var id in assigned)
        {
            if (id != exclude && isr.Contains(id) && image.IsUnfenced(id)) return id;
        }
        return PartitionImage.NoLeader;
    }

    private static int FirstUnfenced(MetadataImage image, ImmutableArray<int> assigned, int exclude)
    {
        foreach (var id in assigned)
        {
            if (id != exclude && image.IsUnfenced(id)) return id;
        }
        return PartitionImage.NoLeader;
    }

    private static ImmutableArray<int> InAssignmentOrder(ImmutableArray<int> assigned, ImmutableArray<int> members) =>
        assigned.Where(members.Contains).ToImmutableArray();

    // ---- reassignment (KIP-455) ----

    private (MetadataResult, MetadataImage?) BeginReassign(Reassign r)
    {
        if (FindPartition(r.TopicId, r.Partition, out var topic) is { } unknown) return (unknown, null);
        var name = $"{topic.Name}/{r.Partition}";
        if (topic.Reassigning.TryGetValue(r.Partition, out var moving))
            return Refusal(MetadataError.ReassignmentInProgress, $"{name} is already moving to [{string.Join(',', moving)}]");
        if (ValidateReplicas(name, r.Target, topic.ReplicationFactor) is { } invalid) return (invalid, null);
        var current = topic.Assignments[r.Partition];
        var state = topic.Partitions[r.Partition];
        if (current.Length == r.Target.Length && current.All(r.Target.Contains))
        {
            // Same replicas, new order: only the preferred leader changes, nothing to copy.
            topic = topic with
            {
                Assignments = topic.Assignments.SetItem(r.Partition, r.Target),
                Partitions = topic.Partitions.SetItem(r.Partition, state with { Isr = InAssignmentOrder(r.Target, state.Isr), PartitionEpoch = state.PartitionEpoch + 1 }),
            };
        }
        else
        {
            var assignment = r.Target.AddRange(current.Where(id => !r.Target.Contains(id)));
            topic = topic with
            {
                Assignments = topic.Assignments.SetItem(r.Partition, assignment),
                Reassigning = topic.Reassigning.SetItem(r.Partition, r.Target),
                Partitions = topic.Partitions.SetItem(r.Partition, state with { Isr = InAssignmentOrder(assignment, state.Isr), PartitionEpoch = state.PartitionEpoch + 1 }),
            };
            topic = MaybeCompleteReassignment(Image, topic, r.Partition);
        }
        return (new PartitionChanged(r.TopicId, r.Partition, topic.Partitions[r.Partition]), WithTopic(Image, topic));
    }

    /// <summary>
    /// Once every target replica is in the ISR, the target becomes the assignment and the removed replicas leave the
    /// ISR; if the leader was one of them, a target replica takes over (a new leader epoch). Nothing is removed
    /// before its data is on the replicas that replace it.
    /// </summary>
    private static TopicImage MaybeCompleteReassignment(MetadataImage image, TopicImage topic, int partition)
    {
        if (!topic.Reassigning.TryGetValue(partition, out var target)) return topic;
        var state = topic.Partitions[partition];
        if (!target.All(state.Isr.Contains)) return topic;
        var isr = InAssignmentOrder(target, state.Isr);
        var leader = target.Contains(state.Leader) ? state.Leader : ChooseCleanLeader(image, target, isr);
        return topic with
        {
            Assignments = topic.Assignments.SetItem(partition, target),
            Reassigning = topic.Reassigning.Remove(partition),
            Partitions = topic.Partitions.SetItem(partition, Changed(state, leader, isr)),
        };
    }

    // ---- producer ids ----

    private (MetadataResult, MetadataImage?) AllocateIds(AllocateProducerIds p)
    {
        if (CheckBrokerEpoch(p.BrokerId, p.BrokerEpoch) is { } stale) return (stale, null);
        if (p.Count is <= 0 or > 1_000_000) return Refusal(MetadataError.InvalidRequest, $"a block holds 1 to 1000000 producer ids, not {p.Count}");
        var first = Image.NextProducerId;
        return (new ProducerIdsAllocated(first, p.Count), Image with { NextProducerId = first + p.Count });
    }

    // ---- entries (compare-and-set) ----

    private (MetadataResult, MetadataImage?) Put(PutEntries p)
    {
        if (string.IsNullOrEmpty(p.Map) || p.Changes.IsDefaultOrEmpty) return Refusal(MetadataError.InvalidRequest, "a PutEntries needs a map name and at least one change");
        var map = Image.Map(p.Map);
        var builder = map.ToBuilder();
        foreach (var change in p.Changes)
        {
            builder.TryGetValue(change.Key, out var current);
            if (!SameBytes(current, change.Expected))
            {
                return Refusal(MetadataError.InvalidUpdateVersion, current is null
                    ? $"{p.Map}/{change.Key} does not exist (any more); read it again"
                    : $"{p.Map}/{change.Key} changed since it was read; read it again");
            }
            if (change.Value is null) builder.Remove(change.Key);
            else builder[change.Key] = change.Value;
        }
        var image = Image with { Maps = Image.Maps.SetItem(p.Map, builder.ToImmutable()) };
        return (new EntriesPut(p.Map, p.Changes.Length, _index), image);
    }

    private static bool SameBytes(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}
