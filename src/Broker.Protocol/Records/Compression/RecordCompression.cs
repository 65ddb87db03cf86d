// Compresses and decompresses a RecordBatch v2's records section (everything after the 61-byte header) the way Kafka frames each codec.
using System.IO.Compression;
using System.Runtime.InteropServices;
using K4os.Compression.LZ4;
using K4os.Compression.LZ4.Streams;
using ZstdSharp;

namespace Broker.Protocol.Records.Compression;

/// <summary>
/// One entry point per direction for the four codecs Kafka defines. Framing follows Kafka's Java client, so any Kafka
/// client reads what we write: gzip is one gzip stream; snappy is xerial's framing (<see cref="XerialSnappy"/>); lz4
/// is one standard LZ4 frame with independent 64 KiB blocks and no checksums (Kafka's Lz4BlockInputStream refuses
/// dependent blocks); zstd is standard frames. Malformed input always surfaces as <see cref="InvalidDataException"/>.
/// </summary>
public static class RecordCompression
{
    private const int ZstdLevel = 3; // Kafka's default compression.zstd.level

    private static readonly LZ4EncoderSettings Lz4Settings = new()
    {
        ChainBlocks = false,
        BlockSize = 64 * 1024,
        ContentChecksum = false,
        BlockChecksum = false,
        CompressionLevel = LZ4Level.L00_FAST,
    };

    /// <summary>Appends <paramref name="records"/> compressed with <paramref name="codec"/> to <paramref name="output"/>.</summary>
    public static void Compress(CompressionCodec codec, ReadOnlySpan<byte> records, ByteBufferWriter output)
    {
        switch (codec)
        {
            case CompressionCodec.Gzip:
                using (var gzip = new GZipStream(output.AsStream(), CompressionLevel.Optimal, leaveOpen: true))
                    gzip.Write(records);
                break;
            case CompressionCodec.Snappy:
                XerialSnappy.Compress(records, output);
                break;
            case CompressionCodec.Lz4:
                LZ4Frame.Encode(records, output, Lz4Settings);
                break;
            case CompressionCodec.Zstd:
                using (var zstd = new Compressor(ZstdLevel))
                {
                    var written = zstd.Wrap(records, output.GetSpan(Compressor.GetCompressBound(records.Length)));
                    output.Advance(written);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(codec), codec, "no compression to apply");
        }
    }

    /// <summary>
    /// The records section of a batch whose attributes say <paramref name="codec"/>, decompressed into a new array
    /// (records read from it keep slices of it, so it cannot be pooled). Throws InvalidDataException for an
    /// unknown codec or bytes that do not decompress, and its subclass <see cref="DecompressedTooLargeException"/>
    /// when they expand past <paramref name="maxBytes"/>.
    /// </summary>
    public static ReadOnlyMemory<byte> Decompress(CompressionCodec codec, ReadOnlyMemory<byte> compressed, int maxBytes = DefaultMaxDecompressedBytes)
    {
        // Records usually shrink 2-5x; start there and let the buffer double if they shrank more.
        var output = new ByteBufferWriter((int)Math.Min(maxBytes, compressed.Length * 4L)) { MaxCapacity = maxBytes };
        try
        {
            DecompressInto(codec, compressed, output);
        }
        catch (DecompressedTooLargeException ex)
        {
            throw new InvalidDataException($"{CompressionCodecs.NameOf(codec)} records: {ex.Message}", ex);
        }
        return output.WrittenMemory;
    }

    /// <summary>
    /// A reader's default cap on one batch's decompressed records: far above any batch a producer builds (a
    /// 1 MiB batch of very repetitive records), far below what would threaten a process.
    /// </summary>
    public const int DefaultMaxDecompressedBytes = 256 * 1024 * 1024;

    /// <summary>
    /// Appends the decompressed records to <paramref name="output"/>, which bounds them by its
    /// <see cref="ByteBufferWriter.MaxCapacity"/> (throwing <see cref="DecompressedTooLargeException"/>), so a
    /// caller that only inspects records can reuse one buffer for every batch.
    /// </summary>
    public static void DecompressInto(CompressionCodec codec, ReadOnlyMemory<byte> compressed, ByteBufferWriter output)
    {
        if ((int)codec > CompressionCodecs.Max)
            throw new InvalidDataException($"unknown compression codec {(int)codec} (Kafka defines 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)");
        try
        {
            switch (codec)
            {
                case CompressionCodec.Gzip:
                    using (var gzip = new GZipStream(AsStream(compressed), CompressionMode.Decompress))
                        ReadAll(gzip, output);
                    break;
                case CompressionCodec.Snappy:
                    XerialSnappy.Decompress(compressed.Span, output);
                    break;
                case CompressionCodec.Lz4:
                    LZ4Frame.Decode(compressed.Span, output);
                    break;
                case CompressionCodec.Zstd:
                    using (var zstd = new DecompressionStream(AsStream(compressed)))
                        ReadAll(zstd, output);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(codec), codec, "no compression to undo");
            }
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or DecompressedTooLargeException))
        {
            // Each library has its own exception for bad input (ZstdException, ArgumentException, ...): one type for
            // callers, naming the codec.
            throw new InvalidDataException($"{CompressionCodecs.NameOf(codec)} records do not decompress: {ex.Message}", ex);
        }
    }

    private static MemoryStream AsStream(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);

    // Reads to the end, never asking the writer for more than its cap leaves: the stream-shaped codecs only say
    // they are done by returning 0, so at the cap one more byte tells "exactly full" from "too large".
    private static void ReadAll(Stream source, ByteBufferWriter output)
    {
        Span<byte> probe = stackalloc byte[1];
        while (true)
        {
            if (output.Remaining == 0)
            {
                if (source.Read(probe) == 0) return;
                throw new DecompressedTooLargeException(output.MaxCapacity);
            }
            var span = output.GetSpan(Math.Min(16384, output.Remaining));
            var read = source.Read(span);
            if (read == 0) return;
            output.Advance(read);
        }
    }
}
