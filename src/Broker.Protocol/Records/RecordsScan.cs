// One pass over a batch's records that checks their framing against the header and finds their timestamps,
// without decoding keys, values or headers: what a broker must know before it appends a client's batch.
using Broker.Protocol.Records.Compression;

namespace Broker.Protocol.Records;

/// <summary>What is wrong with a batch's records, as found by <see cref="RecordsScan.Scan"/>.</summary>
public enum RecordsProblem
{
    None,
    /// <summary>A record's length or fields run past its end, or a length or count is negative.</summary>
    Malformed,
    /// <summary>The records present are not as many as the header's record count says.</summary>
    CountMismatch,
    /// <summary>Record i's offset delta is not i (Kafka's v2 batches number their records 0..n-1).</summary>
    OffsetDeltaOutOfOrder,
    /// <summary>The batch is compressed and its records do not decompress.</summary>
    DoesNotDecompress,
    /// <summary>The batch is compressed and its records decompress to more than the cap.</summary>
    DecompressedTooLarge,
}

/// <summary>
/// What one scan found. <see cref="MaxTimestamp"/> is the largest record timestamp (first timestamp plus delta, as
/// CreateTime reads them), or <see cref="RecordBatch.NoTimestamp"/> if no record has one; <see cref="RecordIndex"/>
/// is the record a problem was found at (-1 for the batch as a whole).
/// </summary>
public readonly record struct RecordsSummary(RecordsProblem Problem, string? Detail, int RecordIndex, long MaxTimestamp, int MaxTimestampOffsetDelta)
{
    public bool IsValid => Problem == RecordsProblem.None;

    internal static RecordsSummary Fail(RecordsProblem problem, string detail, int recordIndex = -1) =>
        new(problem, detail, recordIndex, RecordBatch.NoTimestamp, -1);
}

/// <summary>
/// Walks the records of one batch (decompressing them first if the batch is compressed, into a per-thread buffer
/// that is reused, so a scan allocates nothing in the steady state). Checks the framing of every record, that
/// their offset deltas run 0..n-1 and that there are as many as the header says, computes the max timestamp, and
/// lists the records whose timestamps fall outside a window.
/// </summary>
public static class RecordsScan
{
    // A thread's scratch buffer is dropped instead of kept when a bomb-sized batch made it grow past this.
    private const int KeepScratchUpTo = 8 * 1024 * 1024;

    [ThreadStatic]
    private static ByteBufferWriter? _scratch;

    /// <summary>
    /// Scans <paramref name="batch"/> (one whole batch whose header is <paramref name="header"/>). Records whose
    /// timestamp lies outside [<paramref name="minTimestamp"/>, <paramref name="maxTimestamp"/>] (records without a
    /// timestamp never do) are added to <paramref name="outOfWindow"/> by index, created on the first one.
    /// Compressed records may expand to at most <paramref name="maxDecompressedBytes"/>.
    /// </summary>
    public static RecordsSummary Scan(
        ReadOnlyMemory<byte> batch, in RecordBatchHeader header, int maxDecompressedBytes,
        long minTimestamp, long maxTimestamp, ref List<int>? outOfWindow)
    {
        var records = batch[RecordBatch.HeaderSize..];
        if (header.CompressionType == (int)CompressionCodec.None)
            return Walk(records.Span, header, minTimestamp, maxTimestamp, ref outOfWindow);

        var scratch = _scratch ?? new ByteBufferWriter(64 * 1024);
        _scratch = null; // not reentrant: a scan that throws leaves no half-used buffer behind
        try
        {
            scratch.Reset();
            scratch.MaxCapacity = maxDecompressedBytes;
            try
            {
                RecordCompression.DecompressInto((CompressionCodec)header.CompressionType, records, scratch);
            }
            catch (DecompressedTooLargeException)
            {
                return RecordsSummary.Fail(RecordsProblem.DecompressedTooLarge,
                    $"its {CompressionCodecs.NameOf((CompressionCodec)header.CompressionType)} records decompress to more than {maxDecompressedBytes} bytes");
            }
            catch (InvalidDataException ex)
            {
                return RecordsSummary.Fail(RecordsProblem.DoesNotDecompress, ex.Message);
            }
            return Walk(scratch.WrittenMemory.Span, header, minTimestamp, maxTimestamp, ref outOfWindow);
        }
        finally
        {
            if (scratch.Capacity <= KeepScratchUpTo) _scratch = scratch;
        }
    }

    /// <summary>The max timestamp of a batch's records, or <see cref="RecordBatch.NoTimestamp"/> if they do not read.</summary>
    public static long MaxTimestampOf(ReadOnlyMemory<byte> batch, int maxDecompressedBytes = RecordCompression.DefaultMaxDecompressedBytes)
    {
        if (!RecordBatch.TryReadHeader(batch.Span, out var header)) return RecordBatch.NoTimestamp;
        var end = (int)Math.Clamp((long)header.BatchLength + RecordBatch.LogOverhead, RecordBatch.HeaderSize, batch.Length);
        List<int>? none = null;
        var summary = Scan(batch[..end], header, maxDecompressedBytes, long.MinValue, long.MaxValue, ref none);
        return summary.IsValid ? summary.MaxTimestamp : RecordBatch.NoTimestamp;
    }

    private static RecordsSummary Walk(ReadOnlySpan<byte> records, in RecordBatchHeader header, long minTimestamp, long maxTimestamp, ref List<int>? outOfWindow)
    {
        var max = RecordBatch.NoTimestamp;
        var maxDelta = -1;
        var position = 0;
        var index = 0;
        try
        {
            while (position < records.Length)
            {
                if (index >= header.RecordCount)
                    return RecordsSummary.Fail(RecordsProblem.CountMismatch, $"records continue after the {header.RecordCount} its header counts", index);
                var length = Varint.ReadInt(records, ref position);
                if (length <= 0 || length > records.Length - position)
                    return RecordsSummary.Fail(RecordsProblem.Malformed, $"record {index}'s length {length} runs past the end of the batch", index);
                var end = position + length;
                var record = records[..end]; // every field is bounded by the record's own end
                position++; // attributes: unused in v2 records
                var timestampDelta = Varint.Read(record, ref position);
                var offsetDelta = Varint.ReadInt(record, ref position);
                if (offsetDelta != index)
                    return RecordsSummary.Fail(RecordsProblem.OffsetDeltaOutOfOrder, $"record {index} has offset delta {offsetDelta}; a batch numbers its records 0 to {header.RecordCount - 1} in order", index);
                if (!Skip(record, ref position, allowNull: true) || !Skip(record, ref position, allowNull: true))
                    return RecordsSummary.Fail(RecordsProblem.Malformed, $"record {index}'s key or value runs past the record's end", index);
                var headerCount = Varint.ReadInt(record, ref position);
                if (headerCount < 0 || headerCount > (end - position) / 2)
                    return RecordsSummary.Fail(RecordsProblem.Malformed, $"record {index} claims {headerCount} headers", index);
                for (var h = 0; h < headerCount; h++)
                {
                    if (!Skip(record, ref position, allowNull: false) || !Skip(record, ref position, allowNull: true))
                        return RecordsSummary.Fail(RecordsProblem.Malformed, $"record {index}'s header {h} runs past the record's end", index);
                }
                if (position != end)
                    return RecordsSummary.Fail(RecordsProblem.Malformed, $"record {index}'s length does not match its fields", index);

                var timestamp = header.FirstTimestamp + timestampDelta; // -1 + 0: a record without a timestamp, as in Kafka
                if (timestamp != RecordBatch.NoTimestamp && (timestamp < minTimestamp || timestamp > maxTimestamp))
                    (outOfWindow ??= new()).Add(index);
                if (timestamp > max)
                {
                    max = timestamp;
                    maxDelta = offsetDelta;
                }
                index++;
            }
        }
        catch (InvalidDataException ex)
        {
            return RecordsSummary.Fail(RecordsProblem.Malformed, $"record {index}: {ex.Message}", index);
        }
        if (index != header.RecordCount)
            return RecordsSummary.Fail(RecordsProblem.CountMismatch, $"its header counts {header.RecordCount} records but it holds {index}");
        return new RecordsSummary(RecordsProblem.None, null, -1, max, maxDelta);
    }

    // A length-prefixed field: -1 is null (where allowed), anything else must fit inside the record.
    private static bool Skip(ReadOnlySpan<byte> record, ref int position, bool allowNull)
    {
        var length = Varint.ReadInt(record, ref position);
        if (length == -1) return allowNull;
        if (length < 0 || length > record.Length - position) return false;
        position += length;
        return true;
    }
}
