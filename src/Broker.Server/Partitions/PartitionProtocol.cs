using Akka.Actor;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Serialization;
using Broker.Server.Topics;

namespace Broker.Server.Partitions;

// Messages of the partition replica (PartitionActor) and its leader entity. The client-facing requests
// (FetchRequest, ListOffsetsRequest) live in Broker.Protocol; these are node-internal.

/// <summary>A node-internal command for one partition entity (entity id <c>topic/partition</c>).</summary>
public interface IPartitionCommand : IServerMessage
{
    string Topic { get; }
    int Partition { get; }
}

/// <summary>
/// From a gateway to a partition's leader: append one batch. <paramref name="Acks"/> 1 replies once the
/// leader persisted it, -1 (all) once every in-sync replica has (and at least min.insync.replicas of them).
/// Replied with <see cref="AppendResult"/>; acks 0 is sent with no sender and gets no reply.
/// <paramref name="TopicId"/> is the incarnation the gateway saw: a replica whose log belongs to another one
/// (the topic was deleted and created again, and this node has not caught up yet) refuses the batch rather
/// than store it in a log that is about to be purged.
/// </summary>
public sealed record AppendBatch(string Topic, int Partition, string TopicId, short Acks, ReadOnlyMemory<byte> Batch) : IPartitionCommand
{
    /// <summary>The leader epoch the sending gateway knows (-1 if none): a leader in an older epoch is stale and refuses the batch.</summary>
    public int LeaderEpoch { get; init; } = -1;

    /// <summary>
    /// Refuse the batch (FencedLeaderEpoch) unless the leader's epoch is exactly <see cref="LeaderEpoch"/>: a group
    /// coordinator decided it from the log as it was read in that epoch, and in any other its state may be stale.
    /// </summary>
    public bool ExactLeaderEpoch { get; init; }
}

public sealed record AppendResult(string Topic, int Partition, ErrorCode Error, string? ErrorMessage, long BaseOffset) : IServerMessage
{
    /// <summary>For a refused batch, the records that made the leader refuse it (Kafka's RecordErrors).</summary>
    public IReadOnlyList<RecordError>? RecordErrors { get; init; }

    /// <summary>The leader's append time, which every record of the batch carries, on a LogAppendTime topic; else -1.</summary>
    public long LogAppendTime { get; init; } = -1;
}

/// <summary>Asks a partition's leader for its offsets, epoch and where it runs; replied with <see cref="PartitionInfo"/>.</summary>
public sealed record GetPartitionInfo(string Topic, int Partition) : IPartitionCommand;

public sealed record PartitionInfo(
    string Topic, int Partition, ErrorCode Error, string? ErrorMessage,
    long LogStartOffset, long HighWatermark, long LogEndOffset, int LeaderEpoch, int Leader, string Address) : IServerMessage;

/// <summary>
/// A follower's fetch, sent through the shard region to whichever node leads the partition. Its log end
/// offset is its acknowledgement (everything below is on its disk); <paramref name="LastFetchedEpoch"/> lets
/// the leader say where the follower's log diverges from its own (Kafka 2.7+, KIP-595 style).
/// </summary>
public sealed record ReplicaFetch(
    string Topic, int Partition, string TopicId, int ReplicaId, long FetchId,
    long LogEndOffset, int LastFetchedEpoch, int MaxBytes, int MaxWaitMs) : IPartitionCommand;

/// <summary>
/// A new leader's nudge to its followers' replicas (sent straight to each follower node's replica manager
/// child, as Kafka's LeaderAndIsr tells followers): fetch now rather than when the fetch sent to the dead
/// leader times out.
/// </summary>
public sealed record LeaderElected(string Topic, int Partition, int LeaderEpoch, int Leader) : IServerMessage;

/// <summary>
/// The leader's answer: batches from the follower's log end, the leader's epoch, high watermark and log
/// start, or a divergence point (<paramref name="DivergingEpoch"/> &gt;= 0): truncate to
/// <paramref name="DivergingEndOffset"/> (or where that epoch ends locally, if earlier) and fetch again.
/// </summary>
public sealed record ReplicaFetchResult(
    string Topic, int Partition, long FetchId, ErrorCode Error, string? ErrorMessage,
    int LeaderEpoch, int Leader, long HighWatermark, long LogStartOffset,
    int DivergingEpoch, long DivergingEndOffset, ReadOnlyMemory<byte> Records) : IServerMessage;

/// <summary>Journal event: one record batch, as RecordBatch v2 bytes with its base offset and leader epoch set. One event per batch.</summary>
public sealed record BatchAppended(byte[] Batch) : IServerMessage;

/// <summary>Journal event: the partition starts (again) as part of the topic incarnation <paramref name="TopicId"/>.</summary>
public sealed record PartitionCreated(string TopicId) : IServerMessage;

/// <summary>Journal event: this replica became leader in <paramref name="Epoch"/>, whose first offset is <paramref name="StartOffset"/>.</summary>
public sealed record LeaderEpochStarted(int Epoch, long StartOffset) : IServerMessage;

/// <summary>
/// Journal event: everything from <paramref name="Offset"/> on is dropped (a follower's suffix its new leader
/// does not have). The journal cannot delete a suffix, so truncation is this logical marker: recovery,
/// snapshots and cold reads honour it, and the orphaned rows go with retention.
/// </summary>
public sealed record LogTruncated(long Offset) : IServerMessage;

/// <summary>
/// Journal event: this replica's log now starts at <paramref name="Offset"/>, past everything it held: its leader
/// had already removed those offsets by retention (a new replica of an old topic, or one that was away for longer
/// than the retention). The replica continues from there, as a Kafka follower does after OffsetOutOfRange.
/// </summary>
public sealed record LogStartAdvanced(long Offset) : IServerMessage;

/// <summary>
/// Journal event: the leader's log now starts at <paramref name="Offset"/> because its records below were deleted
/// (DeleteRecords). Whole batches below it go; the batch holding it stays, and reads skip its records below.
/// </summary>
public sealed record RecordsDeleted(long Offset) : IServerMessage;

/// <summary>Snapshot of a partition: its offset index (parallel arrays, oldest first), log bounds, high watermark, epochs and idempotent producers.</summary>
public sealed record PartitionSnapshot(
    string TopicId,
    long LogStartOffset,
    long LogEndOffset,
    long[] BaseOffsets,
    int[] RecordCounts,
    long[] SequenceNrs,
    long[] MaxTimestamps,
    int[] Sizes) : IServerMessage
{
    public long HighWatermark { get; init; }
    public int[] Epochs { get; init; } = [];
    public long[] EpochStartOffsets { get; init; } = [];
    internal ProducerState[] Producers { get; init; } = [];
}

/// <summary>Local, entity to replica: this node now hosts the partition's leader entity; become leader (new epoch).</summary>
internal sealed record LeadPartition(IActorRef Entity) : INoSerializationVerificationNeeded;

/// <summary>Local, entity to replica: the leader entity is stopping here (hand-off); go back to following.</summary>
internal sealed record ResignLeadership(IActorRef Entity) : INoSerializationVerificationNeeded;

/// <summary>The hand-off stop message of the leader entity: resign, then stop (never PoisonPill, which would drop stashed requests).</summary>
public sealed record StopPartitionLeader : INoSerializationVerificationNeeded
{
    public static readonly StopPartitionLeader Instance = new();
}

/// <summary>Local, replica manager to replica: the topic was deleted or this replica moved away: purge the log and stop.</summary>
internal sealed record DeleteReplica(string Reason) : INoSerializationVerificationNeeded;

/// <summary>Local, replica manager to replica: the topic's descriptor changed (configs, assignment).</summary>
internal sealed record TopicUpdated(TopicDescriptor Topic) : INoSerializationVerificationNeeded;

/// <summary>Local, entity to replica manager: give me this node's replica of the partition (created if needed).</summary>
internal sealed record GetReplica(string Topic, int Partition) : INoSerializationVerificationNeeded;

/// <summary>
/// From the group coordinators hosted beside this partition's leader (Groups/GroupPartitionActor): answered with
/// <see cref="Leadership"/> only by a leading replica (others stash it until they lead, or answer nothing).
/// </summary>
internal sealed record GetLeadership(long RequestId) : INoSerializationVerificationNeeded;

/// <summary>This replica leads in <paramref name="LeaderEpoch"/>; the log's bounds as they are now.</summary>
internal sealed record Leadership(long RequestId, int LeaderEpoch, string TopicId, long LogStart, long HighWatermark, long LogEnd) : INoSerializationVerificationNeeded;

/// <summary>Reply to <see cref="GetReplica"/>: the replica, or null with a reason (no such topic or partition, not a replica here).</summary>
internal sealed record ReplicaFound(IActorRef? Replica, ErrorCode Error, string? Reason) : INoSerializationVerificationNeeded;

/// <summary>Local: batches a <see cref="ColdReaderActor"/> read back from the journal for request <paramref name="RequestId"/>, with their sequence numbers.</summary>
internal sealed record ColdBatchesRead(long RequestId, List<(long SequenceNr, byte[] Batch)> Batches, string? Failure) : INoSerializationVerificationNeeded;

/// <summary>Local timer: a long-poll fetch reached its max wait.</summary>
internal sealed record FetchWaitExpired(long RequestId) : INoSerializationVerificationNeeded;

/// <summary>Local timer: a follower's fetch got no answer in time (the leader died or moved): send it again.</summary>
internal sealed record ReplicaFetchTimedOut(long FetchId) : INoSerializationVerificationNeeded;

/// <summary>Local: the node's <see cref="ReplicationBudget{TNode}"/> set bytes toward <paramref name="Node"/> aside for this leader's waiting replica fetch.</summary>
internal sealed record ReplicationBytesGranted(Address Node) : INoSerializationVerificationNeeded;

/// <summary>Local timer: retry something after a back-off (a follower fetch after an error, an election).</summary>
internal sealed record RetryTick(string What) : INoSerializationVerificationNeeded;

/// <summary>Local timer: time to apply retention.</summary>
internal sealed record RetentionTick : INoSerializationVerificationNeeded
{
    public static readonly RetentionTick Instance = new();
}

/// <summary>Local timer: a leader checks its followers' lag (ISR shrink).</summary>
internal sealed record IsrTick : INoSerializationVerificationNeeded
{
    public static readonly IsrTick Instance = new();
}

/// <summary>Local: the outcome of this replica's election, from <see cref="PartitionMetadataClient.ElectAsync"/>.</summary>
internal sealed record ElectionWritten(PartitionStateWrite Outcome) : INoSerializationVerificationNeeded;

/// <summary>Local: the outcome of this leader's ISR change, from <see cref="PartitionMetadataClient.AlterIsrAsync"/>.</summary>
internal sealed record IsrWritten(PartitionStateWrite Outcome) : INoSerializationVerificationNeeded;
