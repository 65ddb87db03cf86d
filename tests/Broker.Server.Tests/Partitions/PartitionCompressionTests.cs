using System.Buffers.Binary;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Protocol.Records.Compression;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Partitions;

/// <summary>Compressed batches through a real node: stored and served as sent, read inside for ListOffsets, unknown codecs refused.</summary>
public sealed class PartitionCompressionTests(ITestOutputHelper output) : NodeTestKit(output)
{
    private const long Start = 1_700_000_000_000;
    // Kafka's DefaultRecordBatch offsets: magic, CRC, attributes (the CRC covers attributes to the end).
    private const int MagicAt = 16;
    private const int CrcAt = 17;
    private const int AttributesAt = 21;

    [Theory]
    [InlineData(CompressionCodec.Gzip)]
    [InlineData(CompressionCodec.Snappy)]
    [InlineData(CompressionCodec.Lz4)]
    [InlineData(CompressionCodec.Zstd)]
    public void Compressed_batches_are_stored_and_fetched_as_sent_with_offsets_from_their_headers(CompressionCodec codec)
    {
        var topic = $"packed-{codec}".ToLowerInvariant();
        CreateTopic(topic, 1);
        var first = CompressedBatch(codec, 40, Start);
        var second = CompressedBatch(codec, 25, Start + 1000);

        Assert.Equal(0, Produce(topic, 0, first).BaseOffset);
        Assert.Equal(40, Produce(topic, 0, second).BaseOffset);

        var fetched = Request<FetchResponse>(new FetchRequest(topic, 0, 0, 1 << 20, 0));
        Assert.Equal(ErrorCode.None, fetched.Error);
        Assert.Equal(65, fetched.HighWatermark);
        // Byte for byte as sent, past the base offset and leader epoch the leader writes (outside the CRC).
        var position = 0;
        Assert.True(RecordBatch.TryReadNext(fetched.Records, ref position, out var stored, out var header));
        Assert.Equal((int)codec, header.CompressionType);
        Assert.Equal(first.AsSpan(MagicAt).ToArray(), stored.Span[MagicAt..].ToArray());
        Assert.Equal(BatchValidation.Valid, RecordBatch.Validate(stored.Span, out _));
        var records = Records(fetched.Records);
        Assert.Equal(Enumerable.Range(0, 65).Select(i => (long)i), records.Select(r => r.Offset));
        Assert.Equal("value-39 compressible compressible", Text(records[39].Value));
        Assert.Equal("value-0 compressible compressible", Text(records[40].Value));

        // By timestamp: the record sits inside a compressed batch, which the partition decompresses to find it.
        Assert.Equal(17, Request<ListOffsetsResponse>(new ListOffsetsRequest(topic, 0, Start + 17)).Offset);
        Assert.Equal(45, Request<ListOffsetsResponse>(new ListOffsetsRequest(topic, 0, Start + 1005)).Offset);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(7)]
    public void Unknown_codec_gets_CorruptRecord_and_the_partition_keeps_serving(int codec)
    {
        CreateTopic("codec", 1);
        var batch = Batch(3);
        BinaryPrimitives.WriteInt16BigEndian(batch.AsSpan(AttributesAt), (short)codec);
        FixCrc(batch);

        var result = Produce("codec", 0, batch);

        Assert.Equal(ErrorCode.CorruptRecord, result.Error);
        Assert.Contains("compression codec", result.ErrorMessage);
        Assert.Equal(0, Produce("codec", 0, Batch(2, "ok")).BaseOffset);
        var fetched = Request<FetchResponse>(new FetchRequest("codec", 0, 0, 1 << 20, 0));
        Assert.Equal(["ok0", "ok1"], Records(fetched.Records).Select(r => Text(r.Value)));
    }

    [Fact]
    public void A_batch_whose_records_do_not_decompress_gets_CorruptRecord_and_nothing_is_written()
    {
        CreateTopic("garbage", 1);
        // Marked gzip with a valid CRC, but the records are plain: the leader decompresses what it appends.
        var batch = Batch(3, timestamp: Start);
        BinaryPrimitives.WriteInt16BigEndian(batch.AsSpan(AttributesAt), (short)CompressionCodec.Gzip);
        FixCrc(batch);

        var refused = Produce("garbage", 0, batch);

        Assert.Equal(ErrorCode.CorruptRecord, refused.Error);
        Assert.Contains("gzip", refused.ErrorMessage);
        Assert.Equal(0, Produce("garbage", 0, Batch(1)).BaseOffset);
        Assert.Equal(1, Request<ListOffsetsResponse>(new ListOffsetsRequest("garbage", 0, OffsetSpec.Latest)).Offset);
    }

    private static byte[] CompressedBatch(CompressionCodec codec, int records, long timestamp)
    {
        var builder = new RecordBatchBuilder(compression: codec);
        for (var i = 0; i < records; i++)
            builder.Append(timestamp + i, System.Text.Encoding.UTF8.GetBytes($"k{i % 4}"), System.Text.Encoding.UTF8.GetBytes($"value-{i} compressible compressible"));
        return builder.Build();
    }

    private static void FixCrc(byte[] batch) =>
        BinaryPrimitives.WriteUInt32BigEndian(batch.AsSpan(CrcAt), Crc32C.Compute(batch.AsSpan(AttributesAt)));
}
