namespace Broker.Protocol;

/// <summary>
/// Typed outcome carried by every response. Names follow Kafka's error codes so that a Kafka user
/// recognises them; the numeric values are ours and are stable on the wire.
/// </summary>
public enum ErrorCode : short
{
    None = 0,
    UnknownTopic = 1,
    TopicAlreadyExists = 2,
    InvalidPartitions = 3,
    InvalidRequest = 4,
    RecordTooLarge = 5,
    OffsetOutOfRange = 6,
    NotLeader = 7,
    RequestTimedOut = 8,
    CorruptRecord = 9,
    InvalidTopic = 10,
    InvalidConfig = 11,
    InvalidReplicationFactor = 12,
    UnsupportedCompression = 13,
    UnknownPartition = 14,
    BrokerNotAvailable = 15,

    // Consumer groups (Kafka's names where Kafka has one).
    /// <summary>The group has never had members or committed offsets (Kafka: GROUP_ID_NOT_FOUND).</summary>
    UnknownGroup = 16,
    /// <summary>The member is not (or no longer) in the group, e.g. its session expired: rejoin.</summary>
    UnknownMemberId = 17,
    /// <summary>The request names an older generation than the group's: the member missed a rebalance and must rejoin.</summary>
    IllegalGeneration = 18,
    /// <summary>The group is rebalancing: rejoin to get the new assignment.</summary>
    RebalanceInProgress = 19,
    /// <summary>A commit for a partition the member does not own in the current generation.</summary>
    PartitionNotAssigned = 20,
    /// <summary>An offset that cannot be committed, e.g. a negative one.</summary>
    InvalidOffset = 21,
    /// <summary>The operation needs a group without members (e.g. resetting offsets), as in Kafka.</summary>
    NonEmptyGroup = 22,
    /// <summary>The member's protocol type or assignors do not match the group's.</summary>
    InconsistentGroupProtocol = 23,
    /// <summary>The session timeout is outside the broker's allowed range.</summary>
    InvalidSessionTimeout = 24,
    /// <summary>The group id is empty or too long.</summary>
    InvalidGroupId = 25,
    /// <summary>auto.offset.reset is none and the group has no committed offset for the partition.</summary>
    NoOffsetForPartition = 26,

    // Replication (Kafka's names).
    /// <summary>acks=all, and fewer replicas are in sync than the topic's min.insync.replicas: nothing was written.</summary>
    NotEnoughReplicas = 27,
    /// <summary>acks=all: the leader wrote the batch, but the ISR shrank below min.insync.replicas before it was replicated.</summary>
    NotEnoughReplicasAfterAppend = 28,
    /// <summary>A request carried an older leader epoch than the partition's (a stale client or leader).</summary>
    FencedLeaderEpoch = 29,
    /// <summary>No in-sync replica of the partition is alive: it is offline until one returns.</summary>
    LeaderNotAvailable = 30,
    /// <summary>A reassignment named nodes that cannot hold the replicas (unknown, down, repeated, or the wrong count).</summary>
    InvalidReplicaAssignment = 31,
    /// <summary>The partition is already being reassigned: wait for that move to finish.</summary>
    ReassignmentInProgress = 32,
    /// <summary>An idempotent producer's batch does not follow its previous one (a gap or a rewind): nothing was written.</summary>
    OutOfOrderSequence = 33,
    /// <summary>An idempotent producer's epoch is older than the newest this partition has seen: a newer instance of it took over.</summary>
    InvalidProducerEpoch = 34,

    // Batch validation (Kafka's LogValidator).
    /// <summary>A batch or a record in it breaks the format's rules (counts, offset deltas, framing, producer fields): nothing was written.</summary>
    InvalidRecord = 35,
    /// <summary>A record's timestamp lies outside the topic's message.timestamp.before/after.max.ms window: nothing was written.</summary>
    InvalidTimestamp = 36,

    // Consumer groups (admin).
    /// <summary>A member of the group is assigned this partition: its committed offset cannot be deleted while the group consumes it.</summary>
    GroupSubscribedToTopic = 37,
    /// <summary>
    /// The group's coordinator is no longer here (its internal partition's leadership moved, or a write to it failed): retry;
    /// the request is routed to the new coordinator once it has read the group back (Kafka: NOT_COORDINATOR).
    /// </summary>
    NotCoordinator = 38,

    // Security (docs/security.md): the native client door's login and Kafka's ACLs.
    /// <summary>The login was refused (unknown user or wrong password), or the door requires one and none was made: check ClientConfig.Username and Password.</summary>
    AuthenticationFailed = 39,
    /// <summary>The user may not do this to the topic: an ACL must grant it (<c>broker acls add</c>); Kafka's TOPIC_AUTHORIZATION_FAILED.</summary>
    TopicAuthorizationFailed = 40,
    /// <summary>The user may not use the consumer group: an ACL must grant it; Kafka's GROUP_AUTHORIZATION_FAILED.</summary>
    GroupAuthorizationFailed = 41,
    /// <summary>The user may not perform this cluster-wide operation: an ACL on the cluster must grant it; Kafka's CLUSTER_AUTHORIZATION_FAILED.</summary>
    ClusterAuthorizationFailed = 42,
    // KIP-848 consumer groups.
    /// <summary>The member's epoch is not the one the coordinator has for it (or it was removed): it must rejoin with epoch 0 (Kafka: FENCED_MEMBER_EPOCH).</summary>
    FencedMemberEpoch = 43,
    /// <summary>A commit carried an older member epoch than the member's current one: the member must refresh its epoch by heartbeat (Kafka: STALE_MEMBER_EPOCH).</summary>
    StaleMemberEpoch = 44,
    /// <summary>The server-side assignor the member asked for is not one the broker offers (Kafka: UNSUPPORTED_ASSIGNOR).</summary>
    UnsupportedAssignor = 45,

    Unknown = 99,
}
