using System.Buffers.Binary;
using System.Text;

namespace Broker.Protocol.Serialization;

/// <summary>
/// Reads what <see cref="WireWriter"/> wrote. Byte blocks come back as slices of the input (no copy);
/// any truncation or impossible length throws <see cref="WireFormatException"/>, so garbage never
/// makes us allocate more than the message itself.
/// </summary>
public struct WireReader(ReadOnlyMemory<byte> buffer)
{
    private int _position;

    /// <summary>Bytes consumed so far.</summary>
    public readonly int Position => _position;

    public readonly int Remaining => buffer.Length - _position;

    public byte ReadByte() => Take(1)[0];

    public bool ReadBool() => ReadByte() != 0;

    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    /// <summary>
    /// A count of following items, each at least <paramref name="minItemBytes"/> long on the wire: a count
    /// the remaining bytes cannot hold is rejected before anything is allocated for it.
    /// </summary>
    public int ReadCount(int minItemBytes = 1)
    {
        var count = ReadInt32();
        if (count < 0 || (long)count * minItemBytes > Remaining)
            throw new WireFormatException($"count {count} does not fit in the {Remaining} bytes left");
        return count;
    }

    public string? ReadString()
    {
        var length = ReadLength();
        return length < 0 ? null : Encoding.UTF8.GetString(Take(length));
    }

    /// <summary>A length-prefixed byte block as a slice of the input: record batches are never copied on receive.</summary>
    public ReadOnlyMemory<byte> ReadBytesAsMemory()
    {
        var length = ReadLength();
        if (length < 0) throw new WireFormatException("unexpected null byte block");
        var slice = buffer.Slice(_position, length);
        _position += length;
        return slice;
    }

    public ReadOnlyMemory<byte>? ReadNullableBytes()
    {
        var length = ReadLength();
        if (length < 0) return null;
        var slice = buffer.Slice(_position, length);
        _position += length;
        return slice;
    }

    /// <summary>Count -1 is null; no element may be null.</summary>
    public int[] ReadInt32List()
    {
        var n = ReadCount(4);
        var values = new int[n];
        for (var i = 0; i < n; i++) values[i] = ReadInt32();
        return values;
    }

    public IReadOnlyList<string>? ReadStringList()
    {
        var count = ReadInt32();
        if (count == -1) return null;
        if (count < 0 || (long)count * 4 > Remaining) throw new WireFormatException($"list count {count} does not fit");
        var list = new string[count];
        for (var i = 0; i < count; i++) list[i] = ReadString() ?? throw new WireFormatException("null string in list");
        return list;
    }

    /// <summary>Never null (a null map is written as empty); keys compare ordinally.</summary>
    public IReadOnlyDictionary<string, string> ReadStringMap()
    {
        var count = ReadCount(8);
        var map = new Dictionary<string, string>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var key = ReadString() ?? throw new WireFormatException("null map key");
            var value = ReadString() ?? throw new WireFormatException("null map value");
            if (!map.TryAdd(key, value)) throw new WireFormatException($"duplicate map key '{key}'");
        }
        return map;
    }

    /// <summary>Throws unless every byte was consumed: trailing garbage means the message is not what it claims.</summary>
    public readonly void EnsureEnd()
    {
        if (Remaining != 0) throw new WireFormatException($"{Remaining} unexpected bytes after the message");
    }

    private int ReadLength()
    {
        var length = ReadInt32();
        if (length < -1 || length > Remaining) throw new WireFormatException($"length {length} does not fit in the {Remaining} bytes left");
        return length;
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > Remaining) throw new WireFormatException($"message truncated: needed {count} bytes, {Remaining} left");
        var span = buffer.Span.Slice(_position, count);
        _position += count;
        return span;
    }
}
