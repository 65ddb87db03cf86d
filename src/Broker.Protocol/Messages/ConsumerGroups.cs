namespace Broker.Protocol.Messages;

// KIP-848 consumer groups (Kafka's ConsumerGroupHeartbeat and ConsumerGroupDescribe): the coordinator computes the
// assignment, and each member reconciles towards it by heartbeats alone (no join/sync barrier). Topics by name: the
// Kafka listener maps Kafka's topic ids to names and back.

/// <summary>
/// A member's heartbeat. <paramref name="MemberEpoch"/> 0 joins (with an empty <paramref name="MemberId"/> the
/// coordinator chooses one), -1 leaves (-2, a static member's temporary leave, is treated as leaving), otherwise it is
/// the epoch the member last received. Null lists mean "unchanged since the last heartbeat", as in Kafka.
/// </summary>
public sealed record ConsumerGroupHeartbeatRequest(
    string GroupId,
    string MemberId,
    int MemberEpoch,
    string ClientId,
    int RebalanceTimeoutMs,
    IReadOnlyList<string>? SubscribedTopics,
    string? ServerAssignor,
    IReadOnlyList<TopicPartition>? OwnedPartitions) : IBrokerRequest, IGroupMessage;

/// <summary>
/// The member's id and epoch, how often to heartbeat, and (when it changed or the request was a full one) the
/// partitions the member may consume now; null <paramref name="Assignment"/> means unchanged.
/// </summary>
public sealed record ConsumerGroupHeartbeatResponse(
    ErrorCode Error,
    string? ErrorMessage,
    string MemberId,
    int MemberEpoch,
    int HeartbeatIntervalMs,
    IReadOnlyList<TopicPartition>? Assignment) : IBrokerResponse;

/// <summary>Describes a KIP-848 consumer group (UnknownGroup when it does not exist or is a classic group).</summary>
public sealed record DescribeConsumerGroupRequest(string GroupId) : IBrokerRequest, IGroupMessage;

/// <summary>A consumer group member: its epoch, subscription, what it owns now and what the coordinator means it to own.</summary>
public sealed record ConsumerGroupMemberDescription(
    string MemberId,
    string ClientId,
    int MemberEpoch,
    IReadOnlyList<string> SubscribedTopics,
    IReadOnlyList<TopicPartition> Assignment,
    IReadOnlyList<TopicPartition> TargetAssignment);

/// <summary>A consumer group's state (Empty, Reconciling, Stable), epochs, assignor and members.</summary>
public sealed record DescribeConsumerGroupResponse(
    ErrorCode Error,
    string? ErrorMessage,
    string GroupId,
    string State,
    int GroupEpoch,
    int AssignmentEpoch,
    string Assignor,
    IReadOnlyList<ConsumerGroupMemberDescription> Members) : IBrokerResponse;
