namespace Broker.Protocol.Messages;

// Consumer-group requests, shaped like Kafka's classic group protocol (JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups, ListGroups) so a Kafka-protocol listener can map
// onto them. Member metadata and assignments are opaque bytes to the protocol; for the "consumer"
// protocol type their layout is Broker.Protocol.Groups.ConsumerProtocol.

/// <summary>A request addressed to one group coordinator (a sharded entity whose id is the group id).</summary>
public interface IGroupMessage : IBrokerMessage
{
    string GroupId { get; }
}

/// <summary>An assignment strategy a member supports (e.g. "range") with its metadata for it (its subscription).</summary>
public sealed record GroupProtocol(string Name, byte[] Metadata);

/// <summary>
/// Joins (or rejoins) a group. An empty <paramref name="MemberId"/> asks for a new one. The reply comes when
/// the rebalance completes, which can take up to the group's rebalance timeout.
/// </summary>
public sealed record JoinGroupRequest(
    string GroupId,
    string MemberId,
    string ClientId,
    int SessionTimeoutMs,
    int RebalanceTimeoutMs,
    string ProtocolType,
    IReadOnlyList<GroupProtocol> Protocols) : IBrokerRequest, IGroupMessage;

/// <summary>A member and its metadata for the chosen protocol (sent to the leader only, in the classic protocol).</summary>
public sealed record JoinGroupMember(string MemberId, byte[] Metadata);

public sealed record JoinGroupResponse(
    ErrorCode Error,
    string? ErrorMessage,
    int GenerationId,
    string ProtocolName,
    string LeaderId,
    string MemberId,
    IReadOnlyList<JoinGroupMember> Members) : IBrokerResponse;

/// <summary>The assignment bytes for one member (sent by the leader in the classic protocol).</summary>
public sealed record SyncGroupAssignment(string MemberId, byte[] Assignment);

/// <summary>
/// Asks for this member's assignment in <paramref name="GenerationId"/>. When the coordinator assigns (the
/// "consumer" protocol type), <paramref name="Assignments"/> is empty; otherwise the leader supplies them.
/// </summary>
public sealed record SyncGroupRequest(string GroupId, int GenerationId, string MemberId, IReadOnlyList<SyncGroupAssignment> Assignments)
    : IBrokerRequest, IGroupMessage;

public sealed record SyncGroupResponse(ErrorCode Error, string? ErrorMessage, byte[] Assignment) : IBrokerResponse;

/// <summary>Keeps a member's session alive; RebalanceInProgress in the reply means "rejoin".</summary>
public sealed record HeartbeatRequest(string GroupId, int GenerationId, string MemberId) : IBrokerRequest, IGroupMessage;

public sealed record HeartbeatResponse(ErrorCode Error, string? ErrorMessage) : IBrokerResponse;

/// <summary>Leaves the group at once (a consumer's Close), so its partitions move without waiting for the session timeout.</summary>
public sealed record LeaveGroupRequest(string GroupId, string MemberId) : IBrokerRequest, IGroupMessage;

public sealed record LeaveGroupResponse(ErrorCode Error, string? ErrorMessage) : IBrokerResponse;
