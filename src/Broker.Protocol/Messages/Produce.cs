namespace Broker.Protocol.Messages;

/// <summary>One record batch (Kafka RecordBatch v2 bytes) for one partition.</summary>
public sealed record ProducePartitionData(string Topic, int Partition, ReadOnlyMemory<byte> Batch);

/// <summary>
/// Batches for any number of partitions. Acks: 0 (no reply is sent), 1 (reply once persisted by the
/// partition), -1 = all (same as 1 until replication lands).
/// </summary>
public sealed record ProduceRequest(short Acks, int TimeoutMs, IReadOnlyList<ProducePartitionData> Partitions) : IBrokerRequest;

/// <summary>Outcome for one batch: the offset the partition gave its first record.</summary>
public sealed record ProducePartitionResult(string Topic, int Partition, ErrorCode Error, string? ErrorMessage, long BaseOffset);

public sealed record ProduceResponse(IReadOnlyList<ProducePartitionResult> Results) : IBrokerResponse
{
    public ErrorCode Error => ErrorCode.None;
    public string? ErrorMessage => null;
}

/// <summary>Sent by the gateway to a partition entity: append one batch. Replied with <see cref="AppendResult"/>.</summary>
public sealed record AppendBatch(string Topic, int Partition, ReadOnlyMemory<byte> Batch) : IPartitionMessage;

public sealed record AppendResult(string Topic, int Partition, ErrorCode Error, string? ErrorMessage, long BaseOffset) : IBrokerResponse;
