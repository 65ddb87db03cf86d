using Akka.Actor;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Serialization;

namespace Broker.Server.Groups;

// Messages of the group coordinators (GroupCoordinatorActor.cs) and their partition host (GroupPartitionActor.cs).
// The client-facing requests live in Broker.Protocol (Messages/Groups.cs, Messages/GroupOffsets.cs); these are the
// group's events (records of its __consumer_offsets partition, GroupRecords), its snapshot and local messages.

/// <summary>
/// The leadership a coordinator writes under: the local leading replica of its <see cref="OffsetsTopic"/> partition,
/// the topic's incarnation and the leader epoch in which the host read the log (a write in any other epoch is refused).
/// </summary>
internal sealed record GroupLease(IActorRef Replica, int Partition, string TopicId, int LeaderEpoch);

/// <summary>From a coordinator to its host: a write failed, so the group must be read back from the partition.</summary>
internal sealed record GroupCoordinatorFailed(string GroupId, string Reason) : INoSerializationVerificationNeeded;

/// <summary>
/// From a host to one of its coordinators (<see cref="GroupCheckpoints"/>): once your earlier writes are committed,
/// write the group's snapshot and answer <see cref="GroupCheckpointed"/>.
/// </summary>
internal sealed record GroupCheckpoint(long Round) : INoSerializationVerificationNeeded;

/// <summary>
/// From a coordinator to its host: the offset of the snapshot it wrote in <paramref name="Round"/>, or null when its
/// group does not exist (nothing of it need be kept).
/// </summary>
internal sealed record GroupCheckpointed(string GroupId, long Round, long? SnapshotOffset) : INoSerializationVerificationNeeded;

/// <summary>
/// From a gateway (ListGroups) to the leader of one <see cref="OffsetsTopic"/> partition: the groups it coordinates,
/// answered with a <see cref="ListGroupsResponse"/>.
/// </summary>
public sealed record ListCoordinatedGroups(string Topic, int Partition) : Partitions.IPartitionCommand;

/// <summary>A member as persisted: enough to resume the generation after a restart or a move.</summary>
public sealed record PersistedMember(
    string MemberId,
    string ClientId,
    int SessionTimeoutMs,
    int RebalanceTimeoutMs,
    byte[] Metadata,
    byte[] Assignment);

/// <summary>
/// Journal event: a rebalance completed and generation <paramref name="GenerationId"/> began with these
/// members (none: the group became Empty). Assignments are empty when the leader supplies them later.
/// </summary>
public sealed record GenerationStarted(
    int GenerationId,
    string ProtocolType,
    string Protocol,
    string LeaderId,
    IReadOnlyList<PersistedMember> Members) : IServerMessage;

/// <summary>Journal event: the leader's assignments for <paramref name="GenerationId"/> (classic protocol, relayed as bytes).</summary>
public sealed record AssignmentsSynced(int GenerationId, IReadOnlyList<SyncGroupAssignment> Assignments) : IServerMessage;

/// <summary>Journal event: offsets committed (the next offset to read per partition).</summary>
public sealed record OffsetsCommitted(IReadOnlyList<CommittedOffset> Offsets) : IServerMessage;

/// <summary>Journal event: the group was deleted (DeleteGroups): no offsets, no generation; it exists again when used again.</summary>
public sealed record GroupDeleted : IServerMessage
{
    public static readonly GroupDeleted Instance = new();
}

/// <summary>Journal event: these committed offsets were deleted (OffsetDelete).</summary>
public sealed record OffsetsDeleted(IReadOnlyList<TopicPartition> Partitions) : IServerMessage;

/// <summary>A KIP-848 consumer group member as persisted: subscription, epochs, what it holds, what it is to hold.</summary>
public sealed record ConsumerMemberState(
    string MemberId,
    string ClientId,
    int RebalanceTimeoutMs,
    string ServerAssignor,
    IReadOnlyList<string> Topics,
    int MemberEpoch,
    int PreviousMemberEpoch,
    IReadOnlyList<TopicPartition> Assigned,
    IReadOnlyList<TopicPartition> PendingRevocation,
    IReadOnlyList<TopicPartition> Target);

/// <summary>
/// Journal event: a KIP-848 consumer group's whole state after a change (<see cref="ConsumerGroup"/>): epochs, the
/// assignor and every member; replay keeps the last one.
/// </summary>
public sealed record ConsumerGroupUpdated(int GroupEpoch, int AssignmentEpoch, string Assignor, IReadOnlyList<ConsumerMemberState> Members) : IServerMessage;

/// <summary>Snapshot: the current generation and every committed offset, so recovery replays only what follows it.</summary>
public sealed record GroupSnapshot(GenerationStarted Generation, IReadOnlyList<CommittedOffset> Offsets) : IServerMessage;

/// <summary>Local timer: check session expiry, the rebalance deadline and the initial rebalance delay.</summary>
internal sealed record GroupTick : INoSerializationVerificationNeeded
{
    public static readonly GroupTick Instance = new();
}
