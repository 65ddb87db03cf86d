using Broker.Protocol.Serialization;

namespace Broker.Protocol.Messages;

/// <summary>One record batch (Kafka RecordBatch v2 bytes) for one partition.</summary>
public sealed record ProducePartitionData(string Topic, int Partition, ReadOnlyMemory<byte> Batch);

/// <summary>
/// Batches for any number of partitions. Acks: 0 (no reply is sent), 1 (reply once persisted by the
/// partition's leader), -1 = all (once every in-sync replica has it, and at least min.insync.replicas do).
/// </summary>
public sealed record ProduceRequest(short Acks, int TimeoutMs, IReadOnlyList<ProducePartitionData> Partitions) : IBrokerRequest
{
    /// <summary>
    /// A request whose wire bytes are written now, into one array, each batch copied once; the serializer
    /// later sends that array as it is. The returned request's batches are slices of it, so the buffers the
    /// given batches live in can be reused as soon as this returns (the producer recycles its batch
    /// builders right after sending), whenever Akka.Remote gets round to serializing the message.
    /// </summary>
    public static ProduceRequest Encode(short acks, int timeoutMs, IReadOnlyList<ProducePartitionData> partitions)
    {
        var frame = ProtocolMessageWriter.EncodeProduceRequest(acks, timeoutMs, partitions, out var slices);
        return new ProduceRequest(acks, timeoutMs, slices) { EncodedFrame = frame };
    }

    // A copy made with `with` may differ from what was encoded: it is serialized afresh.
    private ProduceRequest(ProduceRequest original)
    {
        Acks = original.Acks;
        TimeoutMs = original.TimeoutMs;
        Partitions = original.Partitions;
    }

    /// <summary>The wire bytes, when this request was made by <see cref="Encode"/>.</summary>
    internal byte[]? EncodedFrame { get; private init; }
}

/// <summary>Outcome for one batch: the offset the partition gave its first record.</summary>
public sealed record ProducePartitionResult(string Topic, int Partition, ErrorCode Error, string? ErrorMessage, long BaseOffset)
{
    /// <summary>
    /// The records that made the node refuse the batch, by index in the batch (Kafka's RecordErrors, KIP-467).
    /// Served to Kafka clients; the native protocol carries the summary in <see cref="ErrorMessage"/> only.
    /// </summary>
    public IReadOnlyList<RecordError>? RecordErrors { get; init; }

    /// <summary>The node's append time for a LogAppendTime topic, else -1. Served to Kafka clients.</summary>
    public long LogAppendTime { get; init; } = -1;
}

/// <summary>One record of a refused batch, by its index in the batch, and why.</summary>
public sealed record RecordError(int BatchIndex, string? Message);

public sealed record ProduceResponse(IReadOnlyList<ProducePartitionResult> Results) : IBrokerResponse
{
    public ErrorCode Error => ErrorCode.None;
    public string? ErrorMessage => null;
}

/// <summary>
/// Asks for a producer id and epoch, so the producer's batches can carry sequence numbers and a partition can
/// drop a retried batch it already has (Kafka's InitProducerId for an idempotent producer; no transactions).
/// </summary>
public sealed record InitProducerIdRequest : IBrokerRequest;

/// <summary>A producer id unique in the cluster, and its epoch (0 for a new id).</summary>
public sealed record InitProducerIdResponse(ErrorCode Error, string? ErrorMessage, long ProducerId, short ProducerEpoch) : IBrokerResponse;

/// <summary>The idempotent producers a partition's leader knows (Kafka's DescribeProducers), for tools that look for stuck or stale producers.</summary>
public sealed record DescribeProducersRequest(string Topic, int Partition) : IBrokerRequest, IPartitionMessage;

/// <summary>One idempotent producer of a partition: its epoch, the last sequence number stored and the last batch's timestamp.</summary>
public sealed record ProducerDescription(long ProducerId, short Epoch, int LastSequence, long LastTimestamp);

public sealed record DescribeProducersResponse(string Topic, int Partition, ErrorCode Error, string? ErrorMessage, IReadOnlyList<ProducerDescription> Producers) : IBrokerResponse;
