using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;

namespace Broker.Protocol.Records;

/// <summary>CRC-32C (Castagnoli), as Kafka's RecordBatch v2 uses; SSE4.2 instructions when the CPU has them.</summary>
public static class Crc32C
{
    private const uint Polynomial = 0x82F63B78; // reversed Castagnoli
    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a CRC over more data: Append(Compute(a), b) == Compute(a + b).</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var state = ~crc;
        if (Sse42.X64.IsSupported)
        {
            ulong state64 = state;
            while (data.Length >= 8)
            {
                state64 = Sse42.X64.Crc32(state64, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[8..];
            }
            state = (uint)state64;
        }
        if (Sse42.IsSupported)
        {
            foreach (var b in data) state = Sse42.Crc32(state, b);
            return ~state;
        }
        foreach (var b in data) state = Table[(state ^ b) & 0xFF] ^ (state >> 8);
        return ~state;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? Polynomial ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        return table;
    }
}
