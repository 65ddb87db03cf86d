using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Broker.Kafka;

/// <summary>
/// Writes Kafka's primitive types into one growing buffer rented from the shared pool (return it with
/// <see cref="Dispose"/>). A whole response frame is written here, its size prefix patched in at the end.
/// A writer made with <c>spliceRecordsFrom</c> does not copy records sections of that size or more: it keeps a
/// reference to the stored batches and <see cref="GetSegments"/> hands them out between its own bytes, so a
/// fetch response goes to the socket in one gather write without its records passing through this buffer.
/// </summary>
public sealed class KafkaWriter : IDisposable
{
    private byte[] _buffer;
    private int _length;
    private readonly int _spliceFrom;
    private List<(int At, ReadOnlyMemory<byte> Records)>? _spliced;
    private int _splicedBytes;

    public KafkaWriter(int initialCapacity = 256, int spliceRecordsFrom = int.MaxValue)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);
        _spliceFrom = Math.Max(1, spliceRecordsFrom);
    }

    /// <summary>Bytes written, spliced records included.</summary>
    public int Length => _length + _splicedBytes;

    /// <summary>The bytes written, when no records were spliced (see <see cref="GetSegments"/>).</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _spliced is null ? _buffer.AsMemory(0, _length) : throw SplicedRecords();
    public ReadOnlySpan<byte> WrittenSpan => _spliced is null ? _buffer.AsSpan(0, _length) : throw SplicedRecords();

    /// <summary>Everything written, in order: this writer's own bytes with the spliced records between them. Valid until the next write.</summary>
    public void GetSegments(List<ReadOnlyMemory<byte>> segments)
    {
        var from = 0;
        foreach (var (at, records) in _spliced ?? [])
        {
            if (at > from) segments.Add(_buffer.AsMemory(from, at - from));
            segments.Add(records);
            from = at;
        }
        if (_length > from) segments.Add(_buffer.AsMemory(from, _length - from));
    }

    private static InvalidOperationException SplicedRecords() => new("records were spliced into this frame, not copied: read it with GetSegments");

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _length = 0;
        _spliced = null;
        _splicedBytes = 0;
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>Empties the writer, keeping its buffer, for the next frame.</summary>
    public void Reset()
    {
        _length = 0;
        _spliced = null;
        _splicedBytes = 0;
    }

    private Span<byte> Grow(int count)
    {
        if (_length + count > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + count));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    public void WriteBool(bool value) => Grow(1)[0] = value ? (byte)1 : (byte)0;
    public void WriteInt8(sbyte value) => Grow(1)[0] = (byte)value;
    public void WriteInt16(short value) => BinaryPrimitives.WriteInt16BigEndian(Grow(2), value);
    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Grow(2), value);
    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32BigEndian(Grow(4), value);
    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64BigEndian(Grow(8), value);
    public void WriteFloat64(double value) => BinaryPrimitives.WriteDoubleBigEndian(Grow(8), value);
    public void WriteUuid(Guid value) => value.TryWriteBytes(Grow(16), bigEndian: true, out _);
    public void WriteRaw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Grow(bytes.Length));

    public void WriteUVarint(uint value)
    {
        while (value >= 0x80)
        {
            Grow(1)[0] = (byte)(value | 0x80);
            value >>= 7;
        }
        Grow(1)[0] = (byte)value;
    }

    private void WriteLength(int length, bool flexible, bool wide)
    {
        if (flexible) WriteUVarint((uint)(length + 1));
        else if (wide) WriteInt32(length);
        else WriteInt16(checked((short)length));
    }

    public void WriteNullableString(string? value, bool flexible)
    {
        if (value is null)
        {
            WriteLength(-1, flexible, wide: false);
            return;
        }
        var byteCount = Encoding.UTF8.GetByteCount(value);
        WriteLength(byteCount, flexible, wide: false);
        Encoding.UTF8.GetBytes(value, Grow(byteCount));
    }

    /// <summary>A string the schema does not allow to be null here: null is written as empty.</summary>
    public void WriteString(string? value, bool flexible) => WriteNullableString(value ?? "", flexible);

    public void WriteNullableBytes(byte[]? value, bool flexible)
    {
        if (value is null)
        {
            WriteLength(-1, flexible, wide: true);
            return;
        }
        WriteLength(value.Length, flexible, wide: true);
        WriteRaw(value);
    }

    public void WriteBytes(byte[]? value, bool flexible) => WriteNullableBytes(value ?? [], flexible);

    public void WriteRecords(ReadOnlyMemory<byte> records, bool flexible)
    {
        WriteLength(records.Length, flexible, wide: true);
        if (records.Length < _spliceFrom)
        {
            WriteRaw(records.Span);
            return;
        }
        (_spliced ??= []).Add((_length, records));
        _splicedBytes = checked(_splicedBytes + records.Length);
    }

    public void WriteArrayLength(int count, bool flexible) => WriteLength(count, flexible, wide: true);

    /// <summary>Reserves a 4-byte big-endian int32 (a frame's size) to fill in later with <see cref="PatchInt32"/>.</summary>
    public int ReserveInt32()
    {
        var at = _length;
        Grow(4);
        return at;
    }

    public void PatchInt32(int at, int value) => BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(at, 4), value);

    /// <summary>Starts a tagged field's data; its size (an unsigned varint that precedes it) is inserted by <see cref="EndTaggedField"/>.</summary>
    public int BeginTaggedField() => _length;

    public void EndTaggedField(int start)
    {
        // No schema puts records in a tagged field; if one did, its size would miss the spliced bytes.
        if (_spliced is not null && _spliced[^1].At > start) throw new InvalidOperationException("records spliced inside a tagged field");
        var size = _length - start;
        var prefix = 1;
        for (var v = (uint)size; v >= 0x80; v >>= 7) prefix++;
        Grow(prefix);
        _buffer.AsSpan(start, size).CopyTo(_buffer.AsSpan(start + prefix));
        var at = start;
        var value = (uint)size;
        while (value >= 0x80)
        {
            _buffer[at++] = (byte)(value | 0x80);
            value >>= 7;
        }
        _buffer[at] = (byte)value;
    }
}
