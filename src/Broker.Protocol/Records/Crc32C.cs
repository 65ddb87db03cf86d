using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using ArmCrc32 = System.Runtime.Intrinsics.Arm.Crc32;

namespace Broker.Protocol.Records;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2. Uses the CPU's CRC32 instruction
/// (SSE4.2 on x64, CRC on Arm64) eight bytes at a time; a slicing-by-8 table otherwise.
/// </summary>
public static class Crc32C
{
    private const uint Polynomial = 0x82F63B78; // Castagnoli, bit-reversed
    // Eight 256-entry tables: table k gives the CRC contribution of a byte followed by k zero bytes.
    private static readonly uint[] Tables = BuildTables();

    /// <summary>CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a CRC over more data: Append(Compute(a), b) == Compute(a + b).</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        if (Sse42.IsSupported) return ~AppendSse42(~crc, data);
        if (ArmCrc32.IsSupported) return ~AppendArm(~crc, data);
        return ~AppendTable(~crc, data);
    }

    /// <summary>The table implementation regardless of CPU, so tests can check it against the instructions.</summary>
    internal static uint AppendPortable(uint crc, ReadOnlySpan<byte> data) => ~AppendTable(~crc, data);

    private static uint AppendSse42(uint state, ReadOnlySpan<byte> data)
    {
        ref var p = ref MemoryMarshal.GetReference(data);
        var remaining = data.Length;
        if (Sse42.X64.IsSupported)
        {
            ulong state64 = state;
            for (; remaining >= 8; remaining -= 8, p = ref Unsafe.Add(ref p, 8))
                state64 = Sse42.X64.Crc32(state64, Unsafe.ReadUnaligned<ulong>(ref p));
            state = (uint)state64;
        }
        for (; remaining >= 4; remaining -= 4, p = ref Unsafe.Add(ref p, 4))
            state = Sse42.Crc32(state, Unsafe.ReadUnaligned<uint>(ref p));
        for (; remaining > 0; remaining--, p = ref Unsafe.Add(ref p, 1))
            state = Sse42.Crc32(state, p);
        return state;
    }

    private static uint AppendArm(uint state, ReadOnlySpan<byte> data)
    {
        ref var p = ref MemoryMarshal.GetReference(data);
        var remaining = data.Length;
        if (ArmCrc32.Arm64.IsSupported)
        {
            for (; remaining >= 8; remaining -= 8, p = ref Unsafe.Add(ref p, 8))
                state = ArmCrc32.Arm64.ComputeCrc32C(state, Unsafe.ReadUnaligned<ulong>(ref p));
        }
        for (; remaining >= 4; remaining -= 4, p = ref Unsafe.Add(ref p, 4))
            state = ArmCrc32.ComputeCrc32C(state, Unsafe.ReadUnaligned<uint>(ref p));
        for (; remaining > 0; remaining--, p = ref Unsafe.Add(ref p, 1))
            state = ArmCrc32.ComputeCrc32C(state, p);
        return state;
    }

    private static uint AppendTable(uint state, ReadOnlySpan<byte> data)
    {
        var t = Tables;
        while (data.Length >= 8)
        {
            var lo = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ state;
            var hi = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            state = t[7 * 256 + (lo & 0xFF)] ^ t[6 * 256 + ((lo >> 8) & 0xFF)]
                  ^ t[5 * 256 + ((lo >> 16) & 0xFF)] ^ t[4 * 256 + (lo >> 24)]
                  ^ t[3 * 256 + (hi & 0xFF)] ^ t[2 * 256 + ((hi >> 8) & 0xFF)]
                  ^ t[1 * 256 + ((hi >> 16) & 0xFF)] ^ t[hi >> 24];
            data = data[8..];
        }
        foreach (var b in data) state = t[(state ^ b) & 0xFF] ^ (state >> 8);
        return state;
    }

    private static uint[] BuildTables()
    {
        var tables = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? Polynomial ^ (c >> 1) : c >> 1;
            tables[i] = c;
        }
        for (var i = 0; i < 256; i++)
        {
            for (var k = 1; k < 8; k++)
            {
                var previous = tables[(k - 1) * 256 + i];
                tables[k * 256 + i] = tables[previous & 0xFF] ^ (previous >> 8);
            }
        }
        return tables;
    }
}
