namespace Broker.Server.Controller;

/// <summary>Why the controller refused a record, with Kafka's error names where one exists.</summary>
public enum MetadataError : byte
{
    /// <summary>Kafka's INVALID_REQUEST: the record is malformed or makes no sense in this state.</summary>
    InvalidRequest = 1,
    UnknownBroker = 2,
    /// <summary>Kafka's STALE_BROKER_EPOCH: a request from an earlier registration of the broker.</summary>
    StaleBrokerEpoch = 3,
    /// <summary>Kafka's UNKNOWN_TOPIC_OR_PARTITION (also for a topic id of a deleted incarnation).</summary>
    UnknownTopicOrPartition = 4,
    TopicAlreadyExists = 5,
    InvalidReplicaAssignment = 6,
    /// <summary>Kafka's FENCED_LEADER_EPOCH: the sender's leader epoch is older than the committed one.</summary>
    FencedLeaderEpoch = 7,
    /// <summary>Kafka's INVALID_UPDATE_VERSION: the partition changed since the sender read it.</summary>
    InvalidUpdateVersion = 8,
    /// <summary>Kafka's NOT_LEADER_OR_FOLLOWER: the sender does not lead the partition.</summary>
    NotLeader = 9,
    /// <summary>Kafka's INELIGIBLE_REPLICA: a replica in the new ISR is fenced, unregistered or not assigned.</summary>
    IneligibleReplica = 10,
    /// <summary>Kafka's ELIGIBLE_LEADERS_NOT_AVAILABLE: nobody in the ISR may lead, and unclean election is not allowed.</summary>
    NoEligibleLeader = 11,
    /// <summary>Kafka's ELECTION_NOT_NEEDED: the leader is already the one asked for.</summary>
    ElectionNotNeeded = 12,
    /// <summary>Kafka's PREFERRED_LEADER_NOT_AVAILABLE.</summary>
    PreferredLeaderNotAvailable = 13,
    ReassignmentInProgress = 14,
    /// <summary>Kafka's UNKNOWN_LEADER_EPOCH: the sender claims an epoch the controller has not committed.</summary>
    UnknownLeaderEpoch = 15,
    /// <summary>Kafka's NOT_CONTROLLER: the voter asked does not lead the metadata quorum; nothing was appended.</summary>
    NotController = 16,
    /// <summary>The record was appended but the controller lost leadership before it committed: it may or may not apply.</summary>
    OutcomeUnknown = 17,
}

/// <summary>
/// The outcome of applying one record: what it changed, or why nothing changed. A refusal is a value,
/// committed in the log like any record, and the same on every node.
/// </summary>
public abstract record MetadataResult
{
    public bool Accepted => this is not Refused;
}

public sealed record Refused(MetadataError Error, string Message) : MetadataResult
{
    public override string ToString() => $"{Error}: {Message}";
}

public sealed record BrokerRegistered(int BrokerId, long BrokerEpoch) : MetadataResult;

public sealed record BrokerFenceChanged(int BrokerId, bool Fenced) : MetadataResult;

public sealed record TopicCreated(string Name, string TopicId) : MetadataResult;

public sealed record TopicDeleted(string Name, string TopicId) : MetadataResult;

/// <summary>A partition's leader/ISR record after an AlterPartition, an election or a reassignment step.</summary>
public sealed record PartitionChanged(string TopicId, int Partition, PartitionImage State) : MetadataResult;

public sealed record ProducerIdsAllocated(long FirstProducerId, int Count) : MetadataResult;

/// <summary>A <see cref="PutEntries"/> was applied: every change in it, at log index <paramref name="Index"/>.</summary>
public sealed record EntriesPut(string Map, int Count, long Index) : MetadataResult;
