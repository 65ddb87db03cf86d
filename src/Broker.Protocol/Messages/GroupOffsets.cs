namespace Broker.Protocol.Messages;

// Committed offsets and group inspection. A committed offset is the next offset to read, as in Kafka.

public sealed record OffsetCommitPartition(string Topic, int Partition, long Offset, string? Metadata);

/// <summary>
/// Commits offsets for the member's partitions in <paramref name="GenerationId"/>. Generation -1 with an empty
/// member id is an administrative commit (a reset, or a consumer without membership), accepted only while the
/// group has no members.
/// </summary>
public sealed record OffsetCommitRequest(string GroupId, int GenerationId, string MemberId, IReadOnlyList<OffsetCommitPartition> Offsets)
    : IBrokerRequest, IGroupMessage
{
    /// <summary>
    /// Store negative offsets as given instead of refusing them (InvalidOffset). Kafka's OffsetCommit does: a
    /// negative committed offset is a client's marker that its consumers resolve (kafkajs resets a group by
    /// committing -2 for earliest, -1 for latest). The Kafka listener sets it; native commits leave it off.
    /// </summary>
    public bool KeepsNegativeOffsets { get; init; }
}

public sealed record OffsetCommitPartitionResult(string Topic, int Partition, ErrorCode Error, string? ErrorMessage);

/// <summary><paramref name="Error"/> is a group-level failure (then no offset was committed); per-partition outcomes are in the results.</summary>
public sealed record OffsetCommitResponse(ErrorCode Error, string? ErrorMessage, IReadOnlyList<OffsetCommitPartitionResult> Results) : IBrokerResponse;

/// <summary>Reads committed offsets; <paramref name="Partitions"/> null means every partition the group has committed.</summary>
public sealed record OffsetFetchRequest(string GroupId, IReadOnlyList<TopicPartition>? Partitions) : IBrokerRequest, IGroupMessage;

/// <summary>Offset -1 means nothing is committed for that partition.</summary>
public sealed record CommittedOffset(string Topic, int Partition, long Offset, string? Metadata);

public sealed record OffsetFetchResponse(ErrorCode Error, string? ErrorMessage, IReadOnlyList<CommittedOffset> Offsets) : IBrokerResponse;

public sealed record DescribeGroupRequest(string GroupId) : IBrokerRequest, IGroupMessage;

/// <summary>A member with the partitions it owns (decoded for the "consumer" protocol type; empty for others).</summary>
public sealed record GroupMemberDescription(string MemberId, string ClientId, IReadOnlyList<TopicPartition> Assignment);

/// <summary>
/// State is Empty, PreparingRebalance, CompletingRebalance, Stable or Dead for a classic group; Empty, Reconciling or
/// Stable for a consumer group (<paramref name="Type"/>).
/// </summary>
public sealed record DescribeGroupResponse(
    ErrorCode Error,
    string? ErrorMessage,
    string GroupId,
    string State,
    string ProtocolType,
    string Protocol,
    int GenerationId,
    IReadOnlyList<GroupMemberDescription> Members,
    IReadOnlyList<CommittedOffset> Offsets,
    GroupType Type = GroupType.Classic) : IBrokerResponse;

public sealed record ListGroupsRequest : IBrokerRequest;

/// <summary>
/// Which protocol a group's members speak (Kafka's group types, KIP-848): the classic one (JoinGroup, SyncGroup,
/// Heartbeat; native consumers and Kafka consumers with group.protocol=classic) or the consumer one
/// (ConsumerGroupHeartbeat, the assignment computed by the coordinator). A group is one or the other.
/// </summary>
public enum GroupType : byte
{
    Classic = 0,
    Consumer = 1,
}

public sealed record GroupListing(string GroupId, string State, string ProtocolType, int Members, GroupType Type = GroupType.Classic);

public sealed record ListGroupsResponse(ErrorCode Error, string? ErrorMessage, IReadOnlyList<GroupListing> Groups) : IBrokerResponse;

/// <summary>
/// Deletes a group: its committed offsets and its record (Kafka's DeleteGroups). Only an Empty group (no members)
/// can be deleted: NonEmptyGroup otherwise, UnknownGroup when it does not exist.
/// </summary>
public sealed record DeleteGroupRequest(string GroupId) : IBrokerRequest, IGroupMessage;

public sealed record DeleteGroupResponse(ErrorCode Error, string? ErrorMessage, string GroupId) : IBrokerResponse;

/// <summary>
/// Deletes some of a group's committed offsets (Kafka's OffsetDelete), so a consumer starting there uses its reset
/// policy. A partition a member is assigned is refused (GroupSubscribedToTopic).
/// </summary>
public sealed record DeleteGroupOffsetsRequest(string GroupId, IReadOnlyList<TopicPartition> Partitions) : IBrokerRequest, IGroupMessage;

public sealed record GroupOffsetDeletion(string Topic, int Partition, ErrorCode Error);

public sealed record DeleteGroupOffsetsResponse(ErrorCode Error, string? ErrorMessage, IReadOnlyList<GroupOffsetDeletion> Results) : IBrokerResponse;
