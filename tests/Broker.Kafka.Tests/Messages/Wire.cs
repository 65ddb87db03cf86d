using System.Buffers.Binary;
using System.Text;

namespace Broker.Kafka.Tests.Messages;

/// <summary>Builds expected encodings by hand, field by field, as the protocol guide describes them.</summary>
internal sealed class Wire
{
    private readonly List<byte> _bytes = [];

    public byte[] ToArray() => [.. _bytes];

    public Wire I8(sbyte v) { _bytes.Add((byte)v); return this; }
    public Wire Bool(bool v) { _bytes.Add(v ? (byte)1 : (byte)0); return this; }
    public Wire I16(short v) { var b = new byte[2]; BinaryPrimitives.WriteInt16BigEndian(b, v); _bytes.AddRange(b); return this; }
    public Wire I32(int v) { var b = new byte[4]; BinaryPrimitives.WriteInt32BigEndian(b, v); _bytes.AddRange(b); return this; }
    public Wire I64(long v) { var b = new byte[8]; BinaryPrimitives.WriteInt64BigEndian(b, v); _bytes.AddRange(b); return this; }
    public Wire Raw(params byte[] b) { _bytes.AddRange(b); return this; }

    public Wire UVarint(uint v)
    {
        while (v >= 0x80) { _bytes.Add((byte)(v | 0x80)); v >>= 7; }
        _bytes.Add((byte)v);
        return this;
    }

    /// <summary>Classic string: int16 length, UTF-8; null is length -1.</summary>
    public Wire Str(string? s)
    {
        if (s is null) return I16(-1);
        var b = Encoding.UTF8.GetBytes(s);
        I16((short)b.Length);
        return Raw(b);
    }

    /// <summary>Compact string (KIP-482): unsigned varint length + 1, UTF-8; null is 0.</summary>
    public Wire CStr(string? s)
    {
        if (s is null) return UVarint(0);
        var b = Encoding.UTF8.GetBytes(s);
        UVarint((uint)b.Length + 1);
        return Raw(b);
    }

    /// <summary>Classic array length (int32).</summary>
    public Wire Arr(int count) => I32(count);

    /// <summary>Compact array length: unsigned varint count + 1.</summary>
    public Wire CArr(int count) => UVarint((uint)(count + 1));

    /// <summary>UUID: 16 bytes, most significant first (Java's UUID, as Kafka writes it).</summary>
    public Wire Uuid(Guid v) { var b = new byte[16]; v.TryWriteBytes(b, bigEndian: true, out _); _bytes.AddRange(b); return this; }

    /// <summary>Compact bytes: unsigned varint length + 1; null is 0.</summary>
    public Wire CBytes(byte[]? b) => b is null ? UVarint(0) : UVarint((uint)b.Length + 1).Raw(b);

    /// <summary>An empty tagged-field section.</summary>
    public Wire NoTags() => UVarint(0);
}
