using System.Collections.Immutable;

namespace Broker.Server.Controller;

/// <summary>
/// A broker as the controller knows it (Kafka's <c>BrokerRegistration</c>): the epoch of its current
/// registration, the incarnation that registered (a process start), and whether it is fenced. A fenced broker
/// leads nothing and cannot join an ISR; every broker registers fenced and is unfenced once caught up, i.e.
/// once it has applied the log up to <paramref name="RegisteredAt"/>, the index of its registration record.
/// </summary>
public sealed record BrokerImage(int BrokerId, long BrokerEpoch, Guid IncarnationId, bool Fenced, long RegisteredAt = 0);

/// <summary>
/// Who leads a partition and who is in sync, decided by the controller (KIP-497): the leader's broker id
/// (<see cref="NoLeader"/> while offline), the leader epoch (bumped by every leader change), the partition
/// epoch (bumped by every change of this record, the compare-and-set version of an AlterPartition) and the
/// ISR, in assignment order. Invariant: the leader, when there is one, is in the ISR.
/// </summary>
public sealed record PartitionImage(int Leader, int LeaderEpoch, int PartitionEpoch, ImmutableArray<int> Isr)
{
    public const int NoLeader = -1;

    public bool Offline => Leader == NoLeader;

    public override string ToString() => $"leader {Leader} epoch {LeaderEpoch}.{PartitionEpoch} isr [{string.Join(',', Isr)}]";
}

/// <summary>
/// A topic: its name, the id of this incarnation of the name (a topic deleted and created again gets a new
/// id, so a stale write for the old one never lands on the new one), its configs, per partition the assigned
/// replicas (preferred leader first) and the leader and ISR, and the targets of partitions being moved (KIP-455:
/// while a move runs the assignment is the target followed by the replicas being removed).
/// </summary>
public sealed record TopicImage(
    string Name,
    string TopicId,
    short ReplicationFactor,
    ImmutableSortedDictionary<string, string> Configs,
    ImmutableArray<ImmutableArray<int>> Assignments,
    ImmutableArray<PartitionImage> Partitions,
    ImmutableSortedDictionary<int, ImmutableArray<int>> Reassigning)
{
    public int PartitionCount => Partitions.Length;

    public bool UncleanLeaderElection =>
        Configs.TryGetValue(Topics.TopicConfig.UncleanLeaderElectionKey, out var v) && bool.TryParse(v, out var b) && b;
}

/// <summary>
/// The whole cluster metadata as of one applied log index: what a KRaft broker calls its metadata image.
/// Immutable: every applied record yields a new image, so readers never see half a change. Sorted maps keep
/// iteration, and so every decision taken over them, the same on every node.
/// </summary>
public sealed record MetadataImage(
    long AppliedIndex,
    ImmutableSortedDictionary<int, BrokerImage> Brokers,
    ImmutableSortedDictionary<string, TopicImage> Topics,
    long LastBrokerEpoch,
    long NextProducerId)
{
    // Before Empty: static fields initialize in order, and Empty's Maps default to these.
    public static readonly ImmutableSortedDictionary<string, ImmutableSortedDictionary<string, byte[]>> EmptyMaps =
        ImmutableSortedDictionary.Create<string, ImmutableSortedDictionary<string, byte[]>>(StringComparer.Ordinal);

    public static readonly ImmutableSortedDictionary<string, byte[]> EmptyMap = ImmutableSortedDictionary.Create<string, byte[]>(StringComparer.Ordinal);

    public static readonly MetadataImage Empty = new(0,
        ImmutableSortedDictionary<int, BrokerImage>.Empty,
        ImmutableSortedDictionary.Create<string, TopicImage>(StringComparer.Ordinal),
        0, 0);

    /// <summary>
    /// Named maps of opaque entries written by <see cref="PutEntries"/> (compare-and-set per entry): the broker's
    /// topic table, partition leader/ISR states and producer-id blocks. Sorted, so snapshots are byte-identical.
    /// </summary>
    public ImmutableSortedDictionary<string, ImmutableSortedDictionary<string, byte[]>> Maps { get; init; } = EmptyMaps;

    /// <summary>The map called <paramref name="name"/>; empty when nothing was ever put in it.</summary>
    public ImmutableSortedDictionary<string, byte[]> Map(string name) => Maps.TryGetValue(name, out var map) ? map : EmptyMap;

    public TopicImage? TopicByName(string name) => Topics.TryGetValue(name, out var t) ? t : null;

    public TopicImage? TopicById(string topicId)
    {
        foreach (var t in Topics.Values)
        {
            if (t.TopicId == topicId) return t;
        }
        return null;
    }

    public PartitionImage? Partition(string topicId, int partition) =>
        TopicById(topicId) is { } t && partition >= 0 && partition < t.PartitionCount ? t.Partitions[partition] : null;

    public bool IsUnfenced(int brokerId) => Brokers.TryGetValue(brokerId, out var b) && !b.Fenced;
}
