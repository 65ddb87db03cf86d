using System.Buffers.Binary;
using System.Text;

namespace Broker.Protocol.Serialization;

/// <summary>
/// Appends big-endian fields to one growing buffer. Strings and byte blocks are length-prefixed with an
/// int32 (-1 = null). Used by both serializers; one instance per message.
/// </summary>
public sealed class WireWriter(int initialCapacity = 256)
{
    private byte[] _buffer = new byte[initialCapacity];
    private int _position;

    public int Length => _position;

    public void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[_position++] = value;
    }

    public void WriteBool(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteInt16(short value)
    {
        Ensure(2);
        BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_position), value);
        _position += 2;
    }

    public void WriteInt32(int value)
    {
        Ensure(4);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_position), value);
        _position += 4;
    }

    public void WriteInt64(long value)
    {
        Ensure(8);
        BinaryPrimitives.WriteInt64BigEndian(_buffer.AsSpan(_position), value);
        _position += 8;
    }

    public void WriteCount(int count) => WriteInt32(count);

    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }
        var length = Encoding.UTF8.GetByteCount(value);
        WriteInt32(length);
        Ensure(length);
        _position += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_position));
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        Ensure(value.Length);
        value.CopyTo(_buffer.AsSpan(_position));
        _position += value.Length;
    }

    public void WriteNullableBytes(ReadOnlyMemory<byte>? value)
    {
        if (value is null) WriteInt32(-1);
        else WriteBytes(value.Value.Span);
    }

    public void WriteStringList(IReadOnlyList<string>? values)
    {
        if (values is null)
        {
            WriteInt32(-1);
            return;
        }
        WriteCount(values.Count);
        for (var i = 0; i < values.Count; i++) WriteString(values[i]);
    }

    public void WriteStringMap(IReadOnlyDictionary<string, string> map)
    {
        WriteCount(map.Count);
        foreach (var (key, value) in map)
        {
            WriteString(key);
            WriteString(value);
        }
    }

    /// <summary>The written bytes; when the buffer is exactly full it is returned without a copy.</summary>
    public byte[] ToArray() => _position == _buffer.Length ? _buffer : _buffer.AsSpan(0, _position).ToArray();

    /// <summary>Reserves room for <paramref name="bytes"/> more bytes (callers that know the size avoid regrowth).</summary>
    public void Ensure(int bytes)
    {
        if (_position + bytes <= _buffer.Length) return;
        Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _position + bytes));
    }
}
