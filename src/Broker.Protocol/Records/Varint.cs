using System.Numerics;

namespace Broker.Protocol.Records;

/// <summary>Zig-zag varints as in Kafka's ByteUtils (protobuf style): records inside a batch use them for every field.</summary>
internal static class Varint
{
    /// <summary>Longest encoding of a 64-bit value (a varint holding an int never needs more than 5).</summary>
    public const int MaxLength = 10;

    public static int SizeOf(int value) => SizeOfUnsigned((uint)((value << 1) ^ (value >> 31)));

    public static int SizeOf(long value) => SizeOfUnsigned((ulong)((value << 1) ^ (value >> 63)));

    // 7 payload bits per byte: ceil(bits / 7) with at least one byte, without a loop.
    private static int SizeOfUnsigned(ulong v) => (BitOperations.Log2(v | 1) * 9 + 73) / 64;

    /// <summary>Writes <paramref name="value"/> zig-zag encoded; returns the bytes written. Ints encode the same as longs.</summary>
    public static int Write(Span<byte> destination, long value)
    {
        var v = (ulong)((value << 1) ^ (value >> 63));
        var i = 0;
        while (v >= 0x80)
        {
            destination[i++] = (byte)(v | 0x80);
            v >>= 7;
        }
        destination[i++] = (byte)v;
        return i;
    }

    /// <summary>Reads a zig-zag varlong at <paramref name="position"/>; throws InvalidDataException on truncation or overlong input.</summary>
    public static long Read(ReadOnlySpan<byte> source, ref int position)
    {
        if ((uint)position < (uint)source.Length && source[position] < 0x80)
        {
            // Single-byte values (small deltas, lengths under 64) are most fields of most records.
            uint single = source[position++];
            return (long)(single >> 1) ^ -(long)(single & 1);
        }
        ulong result = 0;
        var shift = 0;
        while (true)
        {
            if ((uint)position >= (uint)source.Length) throw new InvalidDataException("truncated varint in record");
            var b = source[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
            shift += 7;
            if (shift > 63) throw new InvalidDataException("varint longer than 10 bytes in record");
        }
        return (long)(result >> 1) ^ -(long)(result & 1);
    }

    /// <summary>Reads a zig-zag varint that must fit an int (lengths, counts, offset deltas).</summary>
    public static int ReadInt(ReadOnlySpan<byte> source, ref int position)
    {
        var value = Read(source, ref position);
        if (value is < int.MinValue or > int.MaxValue) throw new InvalidDataException("varint out of int range in record");
        return (int)value;
    }
}
