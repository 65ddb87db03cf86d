using System.Buffers.Binary;
using System.Text;

namespace Broker.Kafka;

/// <summary>
/// Reads Kafka's primitive types (big-endian integers, classic and compact strings, bytes and arrays, unsigned
/// varints) from one received frame. Records fields come back as slices of that frame, never copied. Any
/// length that runs past the frame, or is negative where null is not allowed, throws
/// <see cref="KafkaProtocolException"/>.
/// </summary>
public struct KafkaReader
{
    private readonly ReadOnlyMemory<byte> _buffer;
    private int _position;

    public KafkaReader(ReadOnlyMemory<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;
    public readonly int Remaining => _buffer.Length - _position;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
            throw new KafkaProtocolException($"needed {count} bytes at offset {_position} but the frame has {Remaining} left");
        var span = _buffer.Span.Slice(_position, count);
        _position += count;
        return span;
    }

    public void Skip(int count) => Take(count);

    public bool ReadBool() => Take(1)[0] != 0;
    public sbyte ReadInt8() => (sbyte)Take(1)[0];
    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));
    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));
    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));
    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));
    public double ReadFloat64() => BinaryPrimitives.ReadDoubleBigEndian(Take(8));
    public Guid ReadUuid() => new(Take(16), bigEndian: true);

    public uint ReadUVarint()
    {
        uint value = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = Take(1)[0];
            value |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new KafkaProtocolException($"unsigned varint longer than 5 bytes at offset {_position}");
    }

    /// <summary>Length of a string, bytes or array: -1 for null. Compact encodings store length + 1.</summary>
    private int ReadLength(bool flexible, bool wide)
    {
        if (flexible)
        {
            var n = ReadUVarint();
            if (n > int.MaxValue) throw new KafkaProtocolException($"length {n} is too large");
            return (int)n - 1;
        }
        var length = wide ? ReadInt32() : ReadInt16();
        if (length < -1) throw new KafkaProtocolException($"negative length {length}");
        return length;
    }

    public string? ReadNullableString(bool flexible)
    {
        var length = ReadLength(flexible, wide: false);
        if (length < 0) return null;
        return Encoding.UTF8.GetString(Take(length));
    }

    public string ReadString(bool flexible) =>
        ReadNullableString(flexible) ?? throw new KafkaProtocolException($"null string at offset {_position} where the schema does not allow one");

    public byte[]? ReadNullableBytes(bool flexible)
    {
        var length = ReadLength(flexible, wide: true);
        return length < 0 ? null : Take(length).ToArray();
    }

    public byte[] ReadBytes(bool flexible) =>
        ReadNullableBytes(flexible) ?? throw new KafkaProtocolException($"null bytes at offset {_position} where the schema does not allow them");

    /// <summary>A records field (record batches): a slice of the frame, so a produce hands the client's bytes on without a copy. Null reads as empty.</summary>
    public ReadOnlyMemory<byte> ReadRecords(bool flexible)
    {
        var length = ReadLength(flexible, wide: true);
        if (length <= 0) return ReadOnlyMemory<byte>.Empty;
        if (length > Remaining) throw new KafkaProtocolException($"records of {length} bytes at offset {_position} but the frame has {Remaining} left");
        var slice = _buffer.Slice(_position, length);
        _position += length;
        return slice;
    }

    /// <summary>Element count of an array, -1 for null. A count that cannot fit in what is left of the frame is refused before anything is allocated.</summary>
    public int ReadArrayLength(bool flexible)
    {
        var count = ReadLength(flexible, wide: true);
        if (count > Remaining) throw new KafkaProtocolException($"array of {count} elements at offset {_position} but the frame has {Remaining} bytes left");
        return count;
    }
}
