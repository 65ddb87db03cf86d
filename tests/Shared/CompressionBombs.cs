// Crafted compressed batches for the decompression-cap tests (linked into the protocol and server test projects).
using System.Buffers.Binary;
using System.IO.Compression;
using Broker.Protocol.Records;
using Broker.Protocol.Records.Compression;

namespace Broker.Tests.Shared;

internal static class CompressionBombs
{
    /// <summary>
    /// A valid batch header claiming one record, whose compressed section expands to <paramref name="size"/> zero
    /// bytes: tens of kilobytes on the wire, any size once decompressed.
    /// </summary>
    public static byte[] Batch(CompressionCodec codec, int size)
    {
        var zeros = new byte[size];
        var output = new ByteBufferWriter();
        if (codec == CompressionCodec.Gzip)
        {
            using var gzip = new GZipStream(output.AsStream(), CompressionLevel.Optimal, leaveOpen: true);
            gzip.Write(zeros);
        }
        else
        {
            RecordCompression.Compress(codec, zeros, output);
        }
        var builder = new RecordBatchBuilder();
        builder.Append(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), [1], [2]);
        var template = builder.Build();
        var bomb = new byte[RecordBatch.HeaderSize + output.WrittenCount];
        template.AsSpan(0, RecordBatch.HeaderSize).CopyTo(bomb);
        output.WrittenMemory.Span.CopyTo(bomb.AsSpan(RecordBatch.HeaderSize));
        BinaryPrimitives.WriteInt32BigEndian(bomb.AsSpan(8), bomb.Length - RecordBatch.LogOverhead);
        BinaryPrimitives.WriteInt16BigEndian(bomb.AsSpan(21), (short)codec);
        BinaryPrimitives.WriteUInt32BigEndian(bomb.AsSpan(17), Crc32C.Compute(bomb.AsSpan(21)));
        return bomb;
    }
}
