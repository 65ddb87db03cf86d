using System.Buffers.Binary;
using System.Text;
using Broker.Protocol.Records.Compression;

namespace Broker.Protocol.Records;

/// <summary>
/// Writes records straight into RecordBatch v2 bytes in one growing buffer (no per-record allocation). With a
/// <see cref="CompressionCodec"/>, the records section is compressed once when the batch is built, into a second
/// buffer the builder keeps. Reusable: <see cref="Reset"/> after <see cref="Build(long)"/> or <see cref="BuildInPlace(long)"/>. Not thread-safe.
/// </summary>
public sealed class RecordBatchBuilder
{
    // Length varint (5) + attributes (1) + timestamp delta varlong (10) + offset delta (5)
    // + key length (5) + value length (5) + header count (5): the most a record adds besides its payload.
    private const int MaxRecordOverhead = 5 + 1 + 10 + 5 + 5 + 5 + 5;
    private const int MaxHeaderOverhead = 5 + 5;

    private byte[] _buffer;
    private int _position = RecordBatch.HeaderSize;
    private long _firstTimestamp;
    private long _maxTimestamp;
    private ByteBufferWriter? _compressed;

    public RecordBatchBuilder(int initialCapacity = 16384, CompressionCodec compression = CompressionCodec.None)
    {
        if ((int)compression > CompressionCodecs.Max) throw new ArgumentOutOfRangeException(nameof(compression), compression, "unknown compression codec");
        _buffer = new byte[Math.Max(initialCapacity, RecordBatch.HeaderSize + 64)];
        Compression = compression;
    }

    /// <summary>How <see cref="BuildInPlace(long)"/> compresses the records (attribute bits 0-2).</summary>
    public CompressionCodec Compression { get; }

    /// <summary>Records appended since construction or the last <see cref="Reset"/>.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// Size of the batch if it were built now uncompressed (the bare 61-byte header while empty): exact without
    /// compression, and what batch.size counts with it, as in Kafka's producer.
    /// </summary>
    public int SizeInBytes => _position;

    /// <summary>
    /// An upper bound of the bytes one record adds to a batch, varint overhead included: for batch.size and
    /// record-too-large checks before appending. Negative lengths count as null.
    /// </summary>
    public static int EstimateRecordSize(int keyLength, int valueLength, IReadOnlyList<RecordHeader>? headers)
    {
        var size = MaxRecordOverhead + Math.Max(keyLength, 0) + Math.Max(valueLength, 0);
        if (headers is not null)
        {
            for (var i = 0; i < headers.Count; i++)
            {
                var h = headers[i];
                size += MaxHeaderOverhead + Encoding.UTF8.GetByteCount(h.Key) + (h.Value?.Length ?? 0);
            }
        }
        return size;
    }

    /// <summary>Appends a record; a null key or value is encoded as null (length -1), distinct from empty.</summary>
    public void Append(long timestampMs, byte[]? key, byte[]? value, IReadOnlyList<RecordHeader>? headers = null) =>
        Append(timestampMs, key, key is null, value, value is null, headers);

    /// <summary>Appends a record; the flags say null, since an empty span cannot.</summary>
    public void Append(long timestampMs, ReadOnlySpan<byte> key, bool keyIsNull, ReadOnlySpan<byte> value, bool valueIsNull, IReadOnlyList<RecordHeader>? headers = null)
    {
        // Timestamps are deltas from the first record's, which may be negative if records arrive out of order.
        var firstTimestamp = Count == 0 ? timestampMs : _firstTimestamp;
        var timestampDelta = timestampMs - firstTimestamp;
        var keyLength = keyIsNull ? -1 : key.Length;
        var valueLength = valueIsNull ? -1 : value.Length;
        var headerCount = headers?.Count ?? 0;
        long body = 1 + Varint.SizeOf(timestampDelta) + Varint.SizeOf(Count)
                    + Varint.SizeOf(keyLength) + Math.Max(keyLength, 0)
                    + Varint.SizeOf(valueLength) + Math.Max(valueLength, 0)
                    + Varint.SizeOf(headerCount);
        for (var i = 0; i < headerCount; i++)
        {
            var h = headers![i];
            var hk = Encoding.UTF8.GetByteCount(h.Key);
            var hv = h.Value?.Length ?? -1;
            body += Varint.SizeOf(hk) + hk + Varint.SizeOf(hv) + Math.Max(hv, 0);
        }
        if (body > int.MaxValue - Varint.MaxLength) throw new InvalidOperationException("record is too large for a batch");

        // Grow before writing anything, so a failed append leaves the batch as it was.
        var recordSize = Varint.SizeOf((int)body) + (int)body;
        EnsureCapacity(recordSize);
        var span = _buffer.AsSpan(_position, recordSize);
        var at = Varint.Write(span, body);
        span[at++] = 0; // record attributes: unused in v2
        at += Varint.Write(span[at..], timestampDelta);
        at += Varint.Write(span[at..], Count);
        at += Varint.Write(span[at..], keyLength);
        if (keyLength > 0) { key.CopyTo(span[at..]); at += keyLength; }
        at += Varint.Write(span[at..], valueLength);
        if (valueLength > 0) { value.CopyTo(span[at..]); at += valueLength; }
        at += Varint.Write(span[at..], headerCount);
        for (var i = 0; i < headerCount; i++)
        {
            var h = headers![i];
            var hk = Encoding.UTF8.GetByteCount(h.Key);
            at += Varint.Write(span[at..], hk);
            at += Encoding.UTF8.GetBytes(h.Key, span[at..]);
            var hv = h.Value?.Length ?? -1;
            at += Varint.Write(span[at..], hv);
            if (hv > 0) { h.Value!.Value.Span.CopyTo(span[at..]); at += hv; }
        }

        _position += recordSize;
        _firstTimestamp = firstTimestamp;
        if (Count == 0 || timestampMs > _maxTimestamp) _maxTimestamp = timestampMs;
        Count++;
    }

    /// <summary>The finished batch: header written, CRC computed. Attributes: the codec, CreateTime; no producer id.</summary>
    public byte[] Build(long baseOffset = 0) => BuildInPlace(baseOffset).ToArray();

    /// <summary>Writes the finished batch to <paramref name="destination"/> (long enough for it); returns its size.</summary>
    public int BuildInto(Span<byte> destination, long baseOffset = 0)
    {
        var batch = BuildInPlace(baseOffset);
        if (destination.Length < batch.Length)
            throw new ArgumentException($"destination holds {destination.Length} bytes; the batch needs {batch.Length}", nameof(destination));
        batch.Span.CopyTo(destination);
        return batch.Length;
    }

    /// <summary>
    /// The finished batch in the builder's own buffer, without a copy: for a caller that copies it onward
    /// anyway (the producer writes it straight into its request). Valid until the next
    /// <see cref="Append(long, byte[], byte[], IReadOnlyList{RecordHeader})"/> or <see cref="Reset"/>.
    /// </summary>
    public ReadOnlyMemory<byte> BuildInPlace(long baseOffset = 0)
    {
        if (Count == 0) throw new InvalidOperationException("a record batch needs at least one record");
        var header = _buffer.AsSpan(0, RecordBatch.HeaderSize);
        BinaryPrimitives.WriteInt64BigEndian(header[RecordBatch.BaseOffsetAt..], baseOffset);
        BinaryPrimitives.WriteInt32BigEndian(header[RecordBatch.LengthAt..], _position - RecordBatch.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(header[RecordBatch.LeaderEpochAt..], 0);
        header[RecordBatch.MagicAt] = RecordBatch.CurrentMagic;
        BinaryPrimitives.WriteInt16BigEndian(header[RecordBatch.AttributesAt..], (short)Compression);
        BinaryPrimitives.WriteInt32BigEndian(header[RecordBatch.LastOffsetDeltaAt..], Count - 1);
        BinaryPrimitives.WriteInt64BigEndian(header[RecordBatch.FirstTimestampAt..], _firstTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(header[RecordBatch.MaxTimestampAt..], _maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(header[RecordBatch.ProducerIdAt..], -1);
        BinaryPrimitives.WriteInt16BigEndian(header[RecordBatch.ProducerEpochAt..], -1);
        BinaryPrimitives.WriteInt32BigEndian(header[RecordBatch.BaseSequenceAt..], -1);
        BinaryPrimitives.WriteInt32BigEndian(header[RecordBatch.RecordCountAt..], Count);
        var batch = Compression == CompressionCodec.None ? _buffer.AsMemory(0, _position) : Compress();
        var crc = Crc32C.Compute(batch.Span[RecordBatch.AttributesAt..]);
        BinaryPrimitives.WriteUInt32BigEndian(batch.Span[RecordBatch.CrcAt..], crc);
        return batch;
    }

    // The header as written so far, then the records compressed; only the length changes (the CRC comes after).
    private Memory<byte> Compress()
    {
        var output = _compressed ??= new ByteBufferWriter(_buffer.Length);
        output.Reset();
        _buffer.AsSpan(0, RecordBatch.HeaderSize).CopyTo(output.GetSpan(RecordBatch.HeaderSize));
        output.Advance(RecordBatch.HeaderSize);
        RecordCompression.Compress(Compression, _buffer.AsSpan(RecordBatch.HeaderSize, _position - RecordBatch.HeaderSize), output);
        var batch = output.WrittenMemory;
        BinaryPrimitives.WriteInt32BigEndian(batch.Span[RecordBatch.LengthAt..], batch.Length - RecordBatch.LogOverhead);
        return batch;
    }

    /// <summary>Bytes the builder's buffer holds (it grows for large records and keeps that size).</summary>
    public int Capacity => _buffer.Length;

    /// <summary>Empties the builder for the next batch, keeping its buffer.</summary>
    public void Reset()
    {
        _position = RecordBatch.HeaderSize;
        Count = 0;
    }

    private void EnsureCapacity(int extra)
    {
        if ((long)_position + extra <= _buffer.Length) return;
        var needed = (long)_position + extra;
        if (needed > Array.MaxLength) throw new InvalidOperationException("record batch would exceed the largest possible array");
        Array.Resize(ref _buffer, (int)Math.Min(Array.MaxLength, Math.Max((long)_buffer.Length * 2, needed)));
    }
}
