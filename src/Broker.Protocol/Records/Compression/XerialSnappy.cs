// Snappy as Kafka frames it: xerial snappy-java's SnappyOutputStream format, and raw snappy (what librdkafka writes).
using System.Buffers.Binary;
using Snappier;

namespace Broker.Protocol.Records.Compression;

/// <summary>
/// Kafka's Java client wraps snappy in xerial snappy-java's stream framing: a 16-byte header (0x82 "SNAPPY" 0x00,
/// int32 version 1, int32 compatible version 1), then blocks of [int32 big-endian length][raw snappy block], each
/// at most 32 KiB uncompressed. librdkafka writes one raw snappy block without that framing, and both Kafka
/// (SnappyInputStream falls back to raw) and librdkafka read either, so we do too; we write the framing, as Kafka does.
/// </summary>
public static class XerialSnappy
{
    /// <summary>Uncompressed bytes per block, snappy-java's default.</summary>
    public const int BlockSize = 32 * 1024;

    /// <summary>The framing's first 8 bytes.</summary>
    public static ReadOnlySpan<byte> Magic => [0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0];

    private const int HeaderSize = 16;
    private const int Version = 1;
    private const int CompatibleVersion = 1;
    private const int MaxExpansion = 24;

    public static void Compress(ReadOnlySpan<byte> input, ByteBufferWriter output)
    {
        var header = output.GetSpan(HeaderSize);
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32BigEndian(header[8..], Version);
        BinaryPrimitives.WriteInt32BigEndian(header[12..], CompatibleVersion);
        output.Advance(HeaderSize);
        while (!input.IsEmpty)
        {
            var chunk = input[..Math.Min(BlockSize, input.Length)];
            var span = output.GetSpan(4 + Snappy.GetMaxCompressedLength(chunk.Length));
            var length = Snappy.Compress(chunk, span[4..]);
            BinaryPrimitives.WriteInt32BigEndian(span, length);
            output.Advance(4 + length);
            input = input[chunk.Length..];
        }
    }

    public static void Decompress(ReadOnlySpan<byte> input, ByteBufferWriter output)
    {
        if (input.Length < HeaderSize || !input.StartsWith(Magic))
        {
            DecompressBlock(input, output);
            return;
        }
        // Versions are not checked: snappy-java itself only requires a known magic.
        var rest = input[HeaderSize..];
        while (!rest.IsEmpty)
        {
            if (rest.Length < 4) throw new InvalidDataException("xerial snappy block length is cut short");
            var length = BinaryPrimitives.ReadInt32BigEndian(rest);
            if (length < 0 || length > rest.Length - 4)
                throw new InvalidDataException($"xerial snappy block of {length} bytes runs past the end of the records ({rest.Length - 4} left)");
            DecompressBlock(rest.Slice(4, length), output);
            rest = rest[(4 + length)..];
        }
    }

    private static void DecompressBlock(ReadOnlySpan<byte> block, ByteBufferWriter output)
    {
        var length = Snappy.GetUncompressedLength(block);
        // A snappy op expands at most ~21x (3 bytes copy 64); a larger claim is garbage, not worth allocating for.
        if (length > (long)block.Length * MaxExpansion + 64)
            throw new InvalidDataException($"snappy block of {block.Length} bytes claims {length} uncompressed bytes");
        var written = Snappy.Decompress(block, output.GetSpan(length));
        output.Advance(written);
    }
}
