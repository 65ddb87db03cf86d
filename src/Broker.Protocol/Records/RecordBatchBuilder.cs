using System.Buffers.Binary;
using System.Text;

namespace Broker.Protocol.Records;

/// <summary>
/// Writes records straight into RecordBatch v2 bytes in one growing buffer (no per-record allocation).
/// Reusable: <see cref="Reset"/> after <see cref="Build(long)"/>. Not thread-safe.
/// </summary>
public sealed class RecordBatchBuilder
{
    private byte[] _buffer;
    private int _position = RecordBatch.HeaderSize;
    private long _firstTimestamp;
    private long _maxTimestamp;

    public RecordBatchBuilder(int initialCapacity = 16384)
    {
        _buffer = new byte[Math.Max(initialCapacity, RecordBatch.HeaderSize + 64)];
    }

    public int Count { get; private set; }

    /// <summary>Exact size of the batch if it were built now.</summary>
    public int SizeInBytes => _position;

    /// <summary>An upper bound of the bytes one record adds to a batch.</summary>
    public static int EstimateRecordSize(int keyLength, int valueLength, IReadOnlyList<RecordHeader>? headers)
    {
        var size = 5 + 1 + 10 + 5 + 5 + Math.Max(keyLength, 0) + 5 + Math.Max(valueLength, 0) + 5;
        if (headers is not null)
        {
            foreach (var h in headers) size += 5 + Encoding.UTF8.GetByteCount(h.Key) + 5 + (h.Value?.Length ?? 0);
        }
        return size;
    }

    public void Append(long timestampMs, byte[]? key, byte[]? value, IReadOnlyList<RecordHeader>? headers = null) =>
        Append(timestampMs, key, key is null, value, value is null, headers);

    public void Append(long timestampMs, ReadOnlySpan<byte> key, bool keyIsNull, ReadOnlySpan<byte> value, bool valueIsNull, IReadOnlyList<RecordHeader>? headers = null)
    {
        if (Count == 0)
        {
            _firstTimestamp = timestampMs;
            _maxTimestamp = timestampMs;
        }
        else if (timestampMs > _maxTimestamp)
        {
            _maxTimestamp = timestampMs;
        }

        var timestampDelta = timestampMs - _firstTimestamp;
        var keyLength = keyIsNull ? -1 : key.Length;
        var valueLength = valueIsNull ? -1 : value.Length;
        var headerCount = headers?.Count ?? 0;
        var body = 1 + Varint.SizeOf(timestampDelta) + Varint.SizeOf(Count)
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

        EnsureCapacity(Varint.SizeOf(body) + body);
        var span = _buffer.AsSpan();
        _position += Varint.Write(span[_position..], body);
        span[_position++] = 0; // record attributes
        _position += Varint.Write(span[_position..], timestampDelta);
        _position += Varint.Write(span[_position..], Count);
        _position += Varint.Write(span[_position..], keyLength);
        if (keyLength > 0) { key.CopyTo(span[_position..]); _position += keyLength; }
        _position += Varint.Write(span[_position..], valueLength);
        if (valueLength > 0) { value.CopyTo(span[_position..]); _position += valueLength; }
        _position += Varint.Write(span[_position..], headerCount);
        for (var i = 0; i < headerCount; i++)
        {
            var h = headers![i];
            var hk = Encoding.UTF8.GetByteCount(h.Key);
            _position += Varint.Write(span[_position..], hk);
            _position += Encoding.UTF8.GetBytes(h.Key, span[_position..]);
            var hv = h.Value?.Length ?? -1;
            _position += Varint.Write(span[_position..], hv);
            if (hv > 0) { h.Value!.Value.Span.CopyTo(span[_position..]); _position += hv; }
        }
        Count++;
    }

    /// <summary>The finished batch: header written, CRC computed. Attributes 0 (no compression, CreateTime), no producer id.</summary>
    public byte[] Build(long baseOffset = 0)
    {
        var batch = new byte[_position];
        BuildInto(batch, baseOffset);
        return batch;
    }

    public int BuildInto(Span<byte> destination, long baseOffset = 0)
    {
        if (Count == 0) throw new InvalidOperationException("a record batch needs at least one record");
        var header = _buffer.AsSpan(0, RecordBatch.HeaderSize);
        BinaryPrimitives.WriteInt64BigEndian(header[RecordBatch.BaseOffsetAt..], baseOffset);
        BinaryPrimitives.WriteInt32BigEndian(header[RecordBatch.LengthAt..], _position - RecordBatch.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(header[RecordBatch.LeaderEpochAt..], 0);
        header[RecordBatch.MagicAt] = RecordBatch.CurrentMagic;
        BinaryPrimitives.WriteInt16BigEndian(header[RecordBatch.AttributesAt..], 0);
        BinaryPrimitives.WriteInt32BigEndian(header[RecordBatch.LastOffsetDeltaAt..], Count - 1);
        BinaryPrimitives.WriteInt64BigEndian(header[RecordBatch.FirstTimestampAt..], _firstTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(header[RecordBatch.MaxTimestampAt..], _maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(header[RecordBatch.ProducerIdAt..], -1);
        BinaryPrimitives.WriteInt16BigEndian(header[RecordBatch.ProducerEpochAt..], -1);
        BinaryPrimitives.WriteInt32BigEndian(header[RecordBatch.BaseSequenceAt..], -1);
        BinaryPrimitives.WriteInt32BigEndian(header[RecordBatch.RecordCountAt..], Count);
        var crc = Crc32C.Compute(_buffer.AsSpan(RecordBatch.AttributesAt, _position - RecordBatch.AttributesAt));
        BinaryPrimitives.WriteUInt32BigEndian(header[RecordBatch.CrcAt..], crc);
        _buffer.AsSpan(0, _position).CopyTo(destination);
        return _position;
    }

    public void Reset()
    {
        _position = RecordBatch.HeaderSize;
        Count = 0;
    }

    private void EnsureCapacity(int extra)
    {
        if (_position + extra <= _buffer.Length) return;
        Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _position + extra));
    }
}
