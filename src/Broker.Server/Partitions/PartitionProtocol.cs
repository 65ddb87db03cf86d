using Akka.Actor;
using Broker.Server.Serialization;

namespace Broker.Server.Partitions;

// Messages of the partition log actor (PartitionActor.cs). The client-facing commands (AppendBatch,
// FetchRequest, ListOffsetsRequest) live in Broker.Protocol; these are the node-internal ones.

/// <summary>A node-internal command for one partition entity (entity id <c>topic/partition</c>).</summary>
public interface IPartitionCommand : IServerMessage
{
    string Topic { get; }
    int Partition { get; }
}

/// <summary>Asks a partition for its offsets and where it runs; replied with <see cref="PartitionInfo"/>.</summary>
public sealed record GetPartitionInfo(string Topic, int Partition) : IPartitionCommand;

public sealed record PartitionInfo(string Topic, int Partition, long LogStartOffset, long LogEndOffset, string Address) : IServerMessage;

/// <summary>Journal event: one record batch, as RecordBatch v2 bytes with its base offset set. One event per batch.</summary>
public sealed record BatchAppended(byte[] Batch) : IServerMessage;

/// <summary>Journal event: the partition starts (again) as part of the topic incarnation <paramref name="TopicId"/>.</summary>
public sealed record PartitionCreated(string TopicId) : IServerMessage;

/// <summary>Snapshot of a partition: its offset index (parallel arrays, oldest first) and log bounds.</summary>
public sealed record PartitionSnapshot(
    string TopicId,
    long LogStartOffset,
    long LogEndOffset,
    long[] BaseOffsets,
    int[] RecordCounts,
    long[] SequenceNrs,
    long[] MaxTimestamps,
    int[] Sizes) : IServerMessage;

/// <summary>Local: batches a <see cref="ColdReaderActor"/> read back from the journal for request <paramref name="RequestId"/>.</summary>
internal sealed record ColdBatchesRead(long RequestId, List<byte[]> Batches, string? Failure) : INoSerializationVerificationNeeded;

/// <summary>Local timer: a long-poll fetch reached its max wait.</summary>
internal sealed record FetchWaitExpired(long RequestId) : INoSerializationVerificationNeeded;

/// <summary>Local timer: time to apply retention.</summary>
internal sealed record RetentionTick : INoSerializationVerificationNeeded
{
    public static readonly RetentionTick Instance = new();
}

/// <summary>Local: the registry lookup at start timed out or failed; try again.</summary>
internal sealed record RetryTopicLookup : INoSerializationVerificationNeeded
{
    public static readonly RetryTopicLookup Instance = new();
}
