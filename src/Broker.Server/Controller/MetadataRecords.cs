using System.Collections.Immutable;

namespace Broker.Server.Controller;

/// <summary>
/// The entries of the metadata log: each is proposed to the controller, committed by a majority of voters,
/// then applied in log order on every node by <see cref="MetadataStateMachine"/>. Checks run at apply time
/// against the committed image, so a record proposed from a stale view is refused, never half-applied.
/// </summary>
public abstract record MetadataRecord;

/// <summary>
/// A broker process announces itself (KIP-631). <paramref name="PreviousBrokerEpoch"/> is the epoch its data
/// directory last registered with, or -1 when the directory holds none (new or wiped): a broker that comes back
/// without it may have lost its logs, so it leaves every ISR before it can lead again (KAFKA-15586).
/// A retry from the same <paramref name="IncarnationId"/> gets the same epoch back.
/// </summary>
public sealed record RegisterBroker(int BrokerId, Guid IncarnationId, long PreviousBrokerEpoch) : MetadataRecord;

/// <summary>The controller lost the broker (session timeout): it leads nothing and leaves ISRs it is not the last member of.</summary>
public sealed record FenceBroker(int BrokerId, long BrokerEpoch) : MetadataRecord;

/// <summary>The broker caught up with the metadata log: it may lead again, and leads offline partitions whose ISR holds it.</summary>
public sealed record UnfenceBroker(int BrokerId, long BrokerEpoch) : MetadataRecord;

public sealed record CreateTopic(
    string Name,
    string TopicId,
    short ReplicationFactor,
    ImmutableSortedDictionary<string, string> Configs,
    ImmutableArray<ImmutableArray<int>> Assignments) : MetadataRecord;

public sealed record DeleteTopic(string TopicId) : MetadataRecord;

/// <summary>
/// A partition leader changes its ISR (KIP-497): a compare-and-set on (<paramref name="LeaderEpoch"/>,
/// <paramref name="PartitionEpoch"/>) from the leader's registration <paramref name="BrokerEpoch"/>.
/// </summary>
public sealed record AlterPartition(
    string TopicId,
    int Partition,
    int LeaderId,
    long BrokerEpoch,
    int LeaderEpoch,
    int PartitionEpoch,
    ImmutableArray<int> NewIsr) : MetadataRecord;

/// <summary>Kafka's election types: the preferred replica, a clean election from the ISR, or an unclean one (data loss possible).</summary>
public enum ElectionType : byte
{
    Preferred = 0,
    Clean = 1,
    Unclean = 2,
}

public sealed record ElectLeader(string TopicId, int Partition, ElectionType Type) : MetadataRecord;

/// <summary>Moves a partition's replicas to <paramref name="Target"/> (KIP-455); completes when every target replica is in the ISR.</summary>
public sealed record Reassign(string TopicId, int Partition, ImmutableArray<int> Target) : MetadataRecord;

/// <summary>Reserves <paramref name="Count"/> producer ids for idempotent producers on one broker; ids are never handed out twice.</summary>
public sealed record AllocateProducerIds(int BrokerId, long BrokerEpoch, int Count) : MetadataRecord;

/// <summary>
/// A compare-and-set of entries of one named map of the image (the broker's topic table, partition states and
/// producer-id blocks; values are the broker's own encodings, opaque here). Applies all changes or none: each
/// <see cref="EntryChange.Expected"/> must equal the committed value (null: the key must be absent), so a writer that
/// read a stale image is refused with <see cref="MetadataError.InvalidUpdateVersion"/> and reads again.
/// </summary>
public sealed record PutEntries(string Map, ImmutableArray<EntryChange> Changes) : MetadataRecord;

/// <summary>One key of a <see cref="PutEntries"/>: the value the writer read (null if absent) and the value to store (null removes it).</summary>
public sealed record EntryChange(string Key, byte[]? Expected, byte[]? Value);
