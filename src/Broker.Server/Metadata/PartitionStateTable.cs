using System.Collections.Immutable;
using Akka.DistributedData;

namespace Broker.Server.Metadata;

/// <summary>
/// Who leads a partition and who is in sync, as Kafka's controller keeps it: the leader's node id, the
/// leader epoch (bumped by every election), the partition epoch (bumped by every ISR change, KIP-497) and
/// the in-sync replica set. Ordered by (leader epoch, partition epoch), so a newer election or ISR change
/// always wins a merge and a stale leader's write can never override its successor's.
/// </summary>
public sealed record PartitionState(int LeaderEpoch, int PartitionEpoch, int Leader, ImmutableArray<int> Isr) : IComparable<PartitionState>
{
    public const int NoLeader = -1;

    public int CompareTo(PartitionState? other)
    {
        if (other is null) return 1;
        var c = LeaderEpoch.CompareTo(other.LeaderEpoch);
        if (c != 0) return c;
        c = PartitionEpoch.CompareTo(other.PartitionEpoch);
        if (c != 0) return c;
        c = Leader.CompareTo(other.Leader);
        return c != 0 ? c : string.CompareOrdinal(string.Join(',', Isr), string.Join(',', other.Isr));
    }

    public bool InIsr(int nodeId) => Isr.Contains(nodeId);

    public override string ToString() => $"leader {Leader} epoch {LeaderEpoch}.{PartitionEpoch} isr [{string.Join(',', Isr)}]";
}

/// <summary>
/// Leader and ISR of every partition, keyed <c>topicId/partition</c> (the topic incarnation's id, so a topic
/// created again starts from fresh states). Key <see cref="MetadataKeys.Partitions"/>.
/// </summary>
public sealed class PartitionStateTable : VersionedMap<PartitionState, PartitionStateTable>
{
    public static readonly PartitionStateTable Empty = new(ImmutableSortedDictionary.Create<string, PartitionState>(StringComparer.Ordinal));

    public PartitionStateTable(ImmutableSortedDictionary<string, PartitionState> entries) : base(entries) { }

    protected override PartitionStateTable With(ImmutableSortedDictionary<string, PartitionState> entries) => new(entries);

    public static string KeyOf(string topicId, int partition) => $"{topicId}/{partition}";

    public PartitionState? Find(string topicId, int partition) => Get(KeyOf(topicId, partition));
}

public sealed class PartitionStateTableKey() : Key<PartitionStateTable>(MetadataKeys.PartitionsId);
