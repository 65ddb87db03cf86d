using System.Buffers.Binary;
using Broker.Protocol.Records.Compression;

namespace Broker.Protocol.Records;

/// <summary>
/// Kafka's RecordBatch v2 layout (big-endian): the header fields, then varint-encoded records. The CRC-32C
/// covers attributes to the end, so the base offset and leader epoch can be rewritten in place.
/// </summary>
public static class RecordBatch
{
    public const int HeaderSize = 61;
    /// <summary>Base offset and length fields, which the length does not count.</summary>
    public const int LogOverhead = 12;
    public const byte CurrentMagic = 2;

    internal const int BaseOffsetAt = 0;
    internal const int LengthAt = 8;
    internal const int LeaderEpochAt = 12;
    internal const int MagicAt = 16;
    internal const int CrcAt = 17;
    internal const int AttributesAt = 21;
    internal const int LastOffsetDeltaAt = 23;
    internal const int FirstTimestampAt = 27;
    internal const int MaxTimestampAt = 35;
    internal const int ProducerIdAt = 43;
    internal const int ProducerEpochAt = 51;
    internal const int BaseSequenceAt = 53;
    internal const int RecordCountAt = 57;

    /// <summary>Attribute bit 3: the batch's timestamps are the broker's append time (its MaxTimestamp), not the records' own.</summary>
    public const short LogAppendTimeFlag = 0x08;
    /// <summary>Attribute bit 4: the batch belongs to a transaction.</summary>
    public const short TransactionalFlag = 0x10;
    /// <summary>Attribute bit 5: a control batch (transaction markers), written only by brokers.</summary>
    public const short ControlFlag = 0x20;
    /// <summary>A record or batch without a timestamp (Kafka's RecordBatch.NO_TIMESTAMP).</summary>
    public const long NoTimestamp = -1;

    /// <summary>Reads the header only (no CRC check). False if the bytes are shorter than a header.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> bytes, out RecordBatchHeader header)
    {
        if (bytes.Length < HeaderSize)
        {
            header = default;
            return false;
        }
        header = new RecordBatchHeader
        {
            BaseOffset = BinaryPrimitives.ReadInt64BigEndian(bytes[BaseOffsetAt..]),
            BatchLength = BinaryPrimitives.ReadInt32BigEndian(bytes[LengthAt..]),
            PartitionLeaderEpoch = BinaryPrimitives.ReadInt32BigEndian(bytes[LeaderEpochAt..]),
            Magic = bytes[MagicAt],
            Crc = BinaryPrimitives.ReadUInt32BigEndian(bytes[CrcAt..]),
            Attributes = BinaryPrimitives.ReadInt16BigEndian(bytes[AttributesAt..]),
            LastOffsetDelta = BinaryPrimitives.ReadInt32BigEndian(bytes[LastOffsetDeltaAt..]),
            FirstTimestamp = BinaryPrimitives.ReadInt64BigEndian(bytes[FirstTimestampAt..]),
            MaxTimestamp = BinaryPrimitives.ReadInt64BigEndian(bytes[MaxTimestampAt..]),
            ProducerId = BinaryPrimitives.ReadInt64BigEndian(bytes[ProducerIdAt..]),
            ProducerEpoch = BinaryPrimitives.ReadInt16BigEndian(bytes[ProducerEpochAt..]),
            BaseSequence = BinaryPrimitives.ReadInt32BigEndian(bytes[BaseSequenceAt..]),
            RecordCount = BinaryPrimitives.ReadInt32BigEndian(bytes[RecordCountAt..]),
        };
        return true;
    }

    /// <summary>Checks that <paramref name="bytes"/> is exactly one well-formed v2 batch with a matching CRC.</summary>
    public static BatchValidation Validate(ReadOnlySpan<byte> bytes, out RecordBatchHeader header)
    {
        if (!TryReadHeader(bytes, out header)) return BatchValidation.TooShort;
        if (header.BatchLength != bytes.Length - LogOverhead) return BatchValidation.LengthMismatch;
        if (header.Magic != CurrentMagic) return BatchValidation.UnsupportedMagic;
        if (Crc32C.Compute(bytes[AttributesAt..]) != header.Crc) return BatchValidation.CorruptCrc;
        if (header.RecordCount <= 0 || header.LastOffsetDelta != header.RecordCount - 1) return BatchValidation.InvalidRecordCount;
        if (header.CompressionType > CompressionCodecs.Max) return BatchValidation.UnknownCompression;
        return BatchValidation.Valid;
    }

    /// <summary>Rewrites the base offset in place; it lies before the CRC'd range, so the CRC stays valid.</summary>
    public static void SetBaseOffset(Span<byte> batch, long baseOffset) =>
        BinaryPrimitives.WriteInt64BigEndian(batch[BaseOffsetAt..], baseOffset);

    /// <summary>Rewrites the partition leader epoch in place; also outside the CRC'd range.</summary>
    public static void SetPartitionLeaderEpoch(Span<byte> batch, int epoch) =>
        BinaryPrimitives.WriteInt32BigEndian(batch[LeaderEpochAt..], epoch);

    /// <summary>
    /// Sets the batch's timestamp type (attribute bit 3) and max timestamp, as Kafka's broker does at append, and
    /// computes the CRC again (both lie inside the CRC'd range); does nothing if they already hold these values.
    /// </summary>
    public static void SetMaxTimestamp(Span<byte> batch, bool logAppendTime, long maxTimestamp)
    {
        if (batch.Length < HeaderSize) throw new ArgumentException($"a record batch is at least {HeaderSize} bytes; got {batch.Length}", nameof(batch));
        var attributes = BinaryPrimitives.ReadInt16BigEndian(batch[AttributesAt..]);
        var newAttributes = (short)(logAppendTime ? attributes | LogAppendTimeFlag : attributes & ~LogAppendTimeFlag);
        if (newAttributes == attributes && BinaryPrimitives.ReadInt64BigEndian(batch[MaxTimestampAt..]) == maxTimestamp) return;
        BinaryPrimitives.WriteInt16BigEndian(batch[AttributesAt..], newAttributes);
        BinaryPrimitives.WriteInt64BigEndian(batch[MaxTimestampAt..], maxTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(batch[CrcAt..], Crc32C.Compute(batch[AttributesAt..]));
    }

    /// <summary>
    /// Stamps an idempotent producer's id, epoch and first sequence on a finished batch and computes its CRC
    /// again (they lie inside the CRC'd range). A producer does this when it sends a batch, not when it builds it,
    /// as Kafka's producers do: the sequence belongs to the order batches leave in.
    /// </summary>
    public static void SetProducer(Span<byte> batch, long producerId, short producerEpoch, int baseSequence)
    {
        if (batch.Length < HeaderSize) throw new ArgumentException($"a record batch is at least {HeaderSize} bytes; got {batch.Length}", nameof(batch));
        BinaryPrimitives.WriteInt64BigEndian(batch[ProducerIdAt..], producerId);
        BinaryPrimitives.WriteInt16BigEndian(batch[ProducerEpochAt..], producerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(batch[BaseSequenceAt..], baseSequence);
        BinaryPrimitives.WriteUInt32BigEndian(batch[CrcAt..], Crc32C.Compute(batch[AttributesAt..]));
    }

    /// <summary>
    /// Walks batches laid back to back (a fetch response). Returns false at the end, or when the rest
    /// is a truncated batch (which a consumer ignores, as Kafka's do). Checks no CRC: see <see cref="Validate"/>.
    /// </summary>
    public static bool TryReadNext(ReadOnlyMemory<byte> buffer, ref int position, out ReadOnlyMemory<byte> batch, out RecordBatchHeader header)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        batch = default;
        if (position >= buffer.Length)
        {
            header = default;
            return false;
        }
        var rest = buffer.Span[position..];
        // Compare lengths without adding the 12-byte overhead: a garbage length near int.MaxValue must not overflow.
        if (!TryReadHeader(rest, out header)
            || header.BatchLength < HeaderSize - LogOverhead
            || header.BatchLength > rest.Length - LogOverhead)
        {
            return false;
        }
        batch = buffer.Slice(position, header.TotalSize);
        position += header.TotalSize;
        return true;
    }
}
