using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Broker.Protocol.Serialization;

/// <summary>
/// Appends big-endian fields to one growing buffer; the format <see cref="WireReader"/> reads. Strings and
/// byte blocks are prefixed with an int32 length (-1 = null), collections with an int32 count.
/// Shared by the protocol serializer and the node's serializer of internal events; one instance per message.
/// </summary>
/// <remarks>
/// Two modes. <c>new WireWriter()</c> works in a buffer rented from <see cref="ArrayPool{T}.Shared"/> and
/// <see cref="ToArray"/> copies out the result: right for small messages of unknown size, dispose it to
/// return the buffer (forgetting to is harmless, the buffer is then just collected).
/// <see cref="WithExactSize"/> is for messages whose size is known up front (those that carry record
/// batches): the buffer is the final array and <see cref="ToArray"/> hands it over without a copy, so a
/// batch is copied exactly once on its way to the transport.
/// </remarks>
public sealed class WireWriter : IDisposable
{
    private byte[] _buffer;
    private bool _pooled;
    private int _position;

    /// <summary>A writer over a pooled buffer of at least <paramref name="initialCapacity"/> bytes.</summary>
    public WireWriter(int initialCapacity = 256)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 16));
        _pooled = true;
    }

    private WireWriter(byte[] exact)
    {
        _buffer = exact;
        _pooled = false;
    }

    /// <summary>
    /// A writer whose buffer is exactly <paramref name="size"/> bytes: if exactly that much is written,
    /// <see cref="ToArray"/> returns the buffer itself. Writing more still works (it grows into a pooled buffer).
    /// </summary>
    public static WireWriter WithExactSize(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        // Not zeroed first: every byte is written before the buffer is handed out, and a writer that wrote
        // less copies out only what it wrote (ToArray).
        return new WireWriter(size == 0 ? [] : GC.AllocateUninitializedArray<byte>(size));
    }

    /// <summary>Bytes written so far.</summary>
    public int Length => _position;

    /// <summary>The bytes written so far; valid until the next write or <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _position);

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

    /// <summary>The number of items that follow; read back with <see cref="WireReader.ReadCount"/>.</summary>
    public void WriteCount(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        WriteInt32(count);
    }

    /// <summary>UTF-8 with an int32 byte-length prefix; null is written as length -1.</summary>
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

    /// <summary>An int32 length then the bytes: the one copy a record batch makes on its way out.</summary>
    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        Ensure(value.Length);
        value.CopyTo(_buffer.AsSpan(_position));
        _position += value.Length;
    }

    /// <summary>Like <see cref="WriteBytes"/>, with null written as length -1.</summary>
    public void WriteNullableBytes(ReadOnlyMemory<byte>? value)
    {
        if (value is null) WriteInt32(-1);
        else WriteBytes(value.Value.Span);
    }

    /// <summary>A count then each string; a null list is written as count -1 (no string in it may be null).</summary>
    public void WriteInt32List(IReadOnlyList<int>? values)
    {
        values ??= [];
        WriteCount(values.Count);
        for (var i = 0; i < values.Count; i++) WriteInt32(values[i]);
    }

    public void WriteStringList(IReadOnlyList<string>? values)
    {
        if (values is null)
        {
            WriteInt32(-1);
            return;
        }
        WriteCount(values.Count);
        for (var i = 0; i < values.Count; i++)
            WriteString(values[i] ?? throw new ArgumentException("a string list must not contain null", nameof(values)));
    }

    /// <summary>A count then key, value pairs. A null map is written as empty: the reader always returns a map.</summary>
    public void WriteStringMap(IReadOnlyDictionary<string, string>? map)
    {
        if (map is null)
        {
            WriteCount(0);
            return;
        }
        WriteCount(map.Count);
        foreach (var (key, value) in map)
        {
            WriteString(key);
            WriteString(value ?? throw new ArgumentException($"config '{key}' has a null value", nameof(map)));
        }
    }

    /// <summary>
    /// The written bytes. A writer made by <see cref="WithExactSize"/> and filled exactly returns its own
    /// buffer (no copy); otherwise the bytes are copied out, and a pooled buffer is never handed out.
    /// </summary>
    public byte[] ToArray() =>
        !_pooled && _position == _buffer.Length ? _buffer : _buffer.AsSpan(0, _position).ToArray();

    /// <summary>Reserves room for <paramref name="bytes"/> more bytes (callers that know the size avoid regrowth).</summary>
    public void Ensure(int bytes)
    {
        if ((uint)bytes <= (uint)(_buffer.Length - _position)) return;
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var needed = (long)_position + bytes;
        if (needed > Array.MaxLength) throw new InvalidOperationException($"a message cannot exceed {Array.MaxLength} bytes");
        var size = (int)Math.Min(Math.Max(needed, (long)_buffer.Length * 2), Array.MaxLength);
        var grown = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _position).CopyTo(grown);
        ReturnBuffer();
        _buffer = grown;
        _pooled = true;
    }

    /// <summary>Returns a pooled buffer to the pool; the writer must not be used afterwards.</summary>
    public void Dispose()
    {
        ReturnBuffer();
        _buffer = [];
        _pooled = false;
        _position = 0;
    }

    private void ReturnBuffer()
    {
        if (_pooled) ArrayPool<byte>.Shared.Return(_buffer);
    }
}
