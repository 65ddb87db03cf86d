using System.Buffers.Binary;

namespace Broker.Protocol.Records;

/// <summary>Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), so keys hash exactly as with a Kafka client.</summary>
public static class Murmur2
{
    /// <summary>The 32-bit murmur2 hash with Kafka's seed 0x9747b28c, as Java's signed int.</summary>
    public static int Hash(ReadOnlySpan<byte> data)
    {
        const uint seed = 0x9747b28c;
        const uint m = 0x5bd1e995;
        const int r = 24;
        var length = data.Length;
        var h = seed ^ (uint)length;
        var rest = data;
        while (rest.Length >= 4)
        {
            // Java assembles each block little-endian from the bytes, whatever the CPU's byte order.
            var k = BinaryPrimitives.ReadUInt32LittleEndian(rest);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
            rest = rest[4..];
        }
        switch (rest.Length)
        {
            case 3:
                h ^= (uint)rest[2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)rest[1] << 8;
                goto case 1;
            case 1:
                h ^= rest[0];
                h *= m;
                break;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return (int)h;
    }
}
