// Compressed batches: our builder's output reads back, and bytes from independent encoders (the gzip, lz4 and zstd
// command-line tools; snappy written by hand from its format) read as the records they hold.
using System.Buffers.Binary;
using System.Text;
using Broker.Protocol.Records;
using Broker.Protocol.Records.Compression;
using Xunit;

namespace Broker.Protocol.Tests.Records.Compression;

public class CompressedBatchTests
{
    // KnownBatchVectorTests' three-record batch (kafka-python's encoding): its header, and its 44-byte records section.
    private const string ThreeRecordHeaderHex =
        "00000000000000000000005D000000000265632C560000000000020000018BCFE569F40000018BCFE56BE8FFFFFFFFFFFF"
        + "FFFFFFFFFFFFFFFF00000003";
    private const string ThreeRecordsHex = "1E0000000100040468310278046832010E00E707020001002600E80704066B65790A76616C75650204C3A900";

    // The records section compressed by `gzip -n`, `lz4` (v1.9.4: independent blocks, content checksum) and `zstd` (v1.5.4).
    private const string GzipHex = "1F8B08000000000000039363606060646061C93064AA60C93062E46378CECE0414516378C1CEC2969D5AC9559698539ACAC472782503003AB410B82C000000";
    private const string Lz4Hex = "04224D186440A72C0000801E0000000100040468310278046832010E00E707020001002600E80704066B65790A76616C75650204C3A90000000000914314EA";
    private const string ZstdHex = "28B52FFD242C6101001E0000000100040468310278046832010E00E707020001002600E80704066B65790A76616C75650204C3A9005FFEA60B";
    // Snappy by hand: varint 44 (0x2C), then one literal of 44 bytes (tag (44-1)<<2 = 0xAC). librdkafka sends it raw;
    // Kafka's Java client wraps it in xerial's framing: magic, version 1, compatible version 1, [int32 length][block].
    private const string RawSnappyHex = "2CAC" + ThreeRecordsHex;
    private const string XerialSnappyHex = "82534E415050590000000001000000010000002E" + RawSnappyHex;

    public static TheoryData<CompressionCodec> Codecs => new() { CompressionCodec.Gzip, CompressionCodec.Snappy, CompressionCodec.Lz4, CompressionCodec.Zstd };

    public static TheoryData<CompressionCodec, string> ReferenceEncodings => new()
    {
        { CompressionCodec.Gzip, GzipHex },
        { CompressionCodec.Snappy, RawSnappyHex },
        { CompressionCodec.Snappy, XerialSnappyHex },
        { CompressionCodec.Lz4, Lz4Hex },
        { CompressionCodec.Zstd, ZstdHex },
    };

    [Theory]
    [MemberData(nameof(Codecs))]
    public void Batch_compressed_by_the_builder_reads_back_identically(CompressionCodec codec)
    {
        // Over 64 KiB of records, so snappy and lz4 write several blocks.
        var plain = new RecordBatchBuilder();
        var compressed = new RecordBatchBuilder(compression: codec);
        for (var i = 0; i < 2000; i++)
        {
            var key = i % 7 == 0 ? null : Encoding.ASCII.GetBytes($"key-{i % 50}");
            var value = Encoding.ASCII.GetBytes($"value {i} " + new string('x', i % 90));
            RecordHeader[]? headers = i % 5 == 0 ? [new RecordHeader("trace", Encoding.ASCII.GetBytes($"t{i}")), new RecordHeader("none", null)] : null;
            plain.Append(BatchSamples.Timestamp + (i % 13), key, value, headers);
            compressed.Append(BatchSamples.Timestamp + (i % 13), key, value, headers);
        }
        var expected = plain.Build(baseOffset: 500);
        var batch = compressed.Build(baseOffset: 500);

        Assert.True(plain.SizeInBytes > 64 * 1024);
        Assert.Equal(BatchValidation.Valid, RecordBatch.Validate(batch, out var header));
        Assert.Equal((int)codec, header.CompressionType);
        Assert.Equal(2000, header.RecordCount);
        Assert.True(batch.Length < expected.Length / 2, $"{codec}: {batch.Length} bytes, uncompressed {expected.Length}");
        AssertSameRecords(expected, batch);
    }

    [Theory]
    [MemberData(nameof(ReferenceEncodings))]
    public void Records_compressed_by_a_reference_encoder_read_as_the_records_they_hold(CompressionCodec codec, string compressedHex)
    {
        var batch = ThreeRecordBatch(codec, Convert.FromHexString(compressedHex));

        Assert.Equal(BatchValidation.Valid, RecordBatch.Validate(batch, out _));
        AssertSameRecords(Convert.FromHexString(ThreeRecordHeaderHex + ThreeRecordsHex), batch);
        var reader = new RecordBatchReader(batch);
        Assert.True(reader.TryReadNext(out _));
        Assert.True(reader.TryReadNext(out _));
        Assert.True(reader.TryReadNext(out var last));
        Assert.Equal(2L, last.Offset);
        Assert.Equal("key", Encoding.ASCII.GetString(last.Key!.Value.Span));
        Assert.Equal("value", Encoding.ASCII.GetString(last.Value!.Value.Span));
        Assert.False(reader.TryReadNext(out _));
    }

    [Fact]
    public void Snappy_is_written_in_xerial_framing_with_32_KiB_blocks()
    {
        var records = new byte[80 * 1024];
        for (var i = 0; i < records.Length; i++) records[i] = (byte)(i % 251 < 100 ? 'a' : i);
        var output = new ByteBufferWriter();

        XerialSnappy.Compress(records, output);

        var bytes = output.WrittenMemory.Span;
        Assert.Equal("82534E41505059000000000100000001", Convert.ToHexString(bytes[..16]));
        var blocks = 0;
        var rest = bytes[16..];
        while (!rest.IsEmpty)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(rest);
            var block = rest.Slice(4, length);
            // Each block is raw snappy: a varint of its uncompressed length, 32 KiB except the last.
            var expected = Math.Min(XerialSnappy.BlockSize, records.Length - blocks * XerialSnappy.BlockSize);
            Assert.Equal(expected, Snappier.Snappy.GetUncompressedLength(block));
            rest = rest[(4 + length)..];
            blocks++;
        }
        Assert.Equal(3, blocks);
    }

    [Fact]
    public void Lz4_is_one_frame_with_independent_64_KiB_blocks_and_no_checksums_as_kafka_reads()
    {
        var builder = new RecordBatchBuilder(compression: CompressionCodec.Lz4);
        builder.Append(BatchSamples.Timestamp, "k"u8.ToArray(), "v"u8.ToArray());

        var frame = builder.Build().AsSpan(RecordBatch.HeaderSize);

        Assert.Equal("04224D18", Convert.ToHexString(frame[..4])); // magic 0x184D2204, little-endian
        Assert.Equal(0x60, frame[4]);                              // FLG: version 01, block independence, nothing else
        Assert.Equal(0x40, frame[5]);                              // BD: 64 KiB blocks (Kafka's default, 4)
        Assert.Equal(0x82, frame[6]);                              // HC: (xxh32(FLG, BD) >> 8) & 0xFF, the correct one (v2 batches)
        Assert.Equal("00000000", Convert.ToHexString(frame[^4..]));  // end mark, no content checksum after it
    }

    [Theory]
    [InlineData(CompressionCodec.Gzip, "1F8B08")]
    [InlineData(CompressionCodec.Zstd, "28B52FFD")]
    public void Gzip_and_zstd_are_their_standard_formats(CompressionCodec codec, string magicHex)
    {
        var builder = new RecordBatchBuilder(compression: codec);
        builder.Append(BatchSamples.Timestamp, "k"u8.ToArray(), "v"u8.ToArray());

        var records = builder.Build().AsSpan(RecordBatch.HeaderSize);

        Assert.StartsWith(magicHex, Convert.ToHexString(records));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void Unknown_codec_fails_validation_and_reading(int codec)
    {
        var bytes = BatchSamples.Batch(2);
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(21), (short)codec);
        BatchSamples.FixCrc(bytes);

        Assert.Equal(BatchValidation.UnknownCompression, RecordBatch.Validate(bytes, out _));
        var error = Assert.Throws<InvalidDataException>(() => new RecordBatchReader(bytes));
        Assert.Contains("unknown compression codec", error.Message);
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void Records_that_do_not_decompress_throw_InvalidDataException(CompressionCodec codec)
    {
        var builder = new RecordBatchBuilder(compression: codec);
        for (var i = 0; i < 50; i++) builder.Append(BatchSamples.Timestamp, null, Encoding.ASCII.GetBytes($"value-{i}"));
        var batch = builder.Build();
        // Cut the compressed records short (length and CRC fixed, so only decompression can notice).
        var cut = batch.AsSpan(0, batch.Length - 12).ToArray();
        BinaryPrimitives.WriteInt32BigEndian(cut.AsSpan(8), cut.Length - 12);
        BatchSamples.FixCrc(cut);
        Assert.Equal(BatchValidation.Valid, RecordBatch.Validate(cut, out _));

        Assert.Throws<InvalidDataException>(() =>
        {
            var reader = new RecordBatchReader(cut);
            while (reader.TryReadNext(out _)) { }
        });
    }

    private static byte[] ThreeRecordBatch(CompressionCodec codec, byte[] compressed)
    {
        var header = Convert.FromHexString(ThreeRecordHeaderHex);
        var batch = BatchSamples.Concat(header, compressed);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(8), batch.Length - 12);
        BinaryPrimitives.WriteInt16BigEndian(batch.AsSpan(21), (short)codec);
        BatchSamples.FixCrc(batch);
        return batch;
    }

    private static void AssertSameRecords(byte[] expectedBatch, byte[] actualBatch)
    {
        var expected = new RecordBatchReader(expectedBatch);
        var actual = new RecordBatchReader(actualBatch);
        var count = 0;
        while (expected.TryReadNext(out var e))
        {
            Assert.True(actual.TryReadNext(out var a), $"record {count} missing");
            Assert.Equal(e.Offset, a.Offset);
            Assert.Equal(e.Timestamp, a.Timestamp);
            Assert.Equal(e.Key?.ToArray(), a.Key?.ToArray());
            Assert.Equal(e.Value?.ToArray(), a.Value?.ToArray());
            Assert.Equal(e.Headers.Count, a.Headers.Count);
            for (var h = 0; h < e.Headers.Count; h++)
            {
                Assert.Equal(e.Headers[h].Key, a.Headers[h].Key);
                Assert.Equal(e.Headers[h].Value?.ToArray(), a.Headers[h].Value?.ToArray());
            }
            count++;
        }
        Assert.False(actual.TryReadNext(out _));
        Assert.True(count > 0);
    }
}
