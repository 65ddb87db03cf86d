namespace Broker.Protocol.Records;

/// <summary>The fixed 61-byte header of a Kafka RecordBatch v2.</summary>
public readonly struct RecordBatchHeader
{
    public long BaseOffset { get; init; }
    public int BatchLength { get; init; }
    public int PartitionLeaderEpoch { get; init; }
    public byte Magic { get; init; }
    public uint Crc { get; init; }
    public short Attributes { get; init; }
    public int LastOffsetDelta { get; init; }
    public long FirstTimestamp { get; init; }
    public long MaxTimestamp { get; init; }
    public long ProducerId { get; init; }
    public short ProducerEpoch { get; init; }
    public int BaseSequence { get; init; }
    public int RecordCount { get; init; }

    /// <summary>Bytes of the whole batch: the length field counts what follows it.</summary>
    public int TotalSize => BatchLength + RecordBatch.LogOverhead;

    public long LastOffset => BaseOffset + LastOffsetDelta;

    public int CompressionType => Attributes & 7;

    /// <summary>Attribute bit 3: every record's timestamp is <see cref="MaxTimestamp"/>, the broker's append time.</summary>
    public bool IsLogAppendTime => (Attributes & RecordBatch.LogAppendTimeFlag) != 0;

    public bool IsTransactional => (Attributes & RecordBatch.TransactionalFlag) != 0;

    public bool IsControl => (Attributes & RecordBatch.ControlFlag) != 0;
}
