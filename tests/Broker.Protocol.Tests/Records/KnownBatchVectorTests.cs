// Byte-exact batches against vectors from an independent v2 encoder (kafka-python's DefaultRecordBatchBuilder),
// and a one-record batch checked field by field against the layout in Kafka's DefaultRecordBatch.java.
using System.Buffers.Binary;
using System.Text;
using Broker.Protocol.Records;
using Xunit;

namespace Broker.Protocol.Tests.Records;

public class KnownBatchVectorTests
{
    private const string OneRecordHex =
        "0000000000000000" + "0000003A" + "00000000" + "02" + "E99B8DD8" + "0000" + "00000000"
        + "0000018BCFE56800" + "0000018BCFE56800" + "FFFFFFFFFFFFFFFF" + "FFFF" + "FFFFFFFF" + "00000001"
        + "10" + "00" + "00" + "00" + "02" + "6B" + "02" + "76" + "00";

    private const string ThreeRecordHex =
        "00000000000000000000005D000000000265632C560000000000020000018BCFE569F40000018BCFE56BE8FFFFFFFFFFFF"
        + "FFFFFFFFFFFFFFFF000000031E0000000100040468310278046832010E00E707020001002600E80704066B65790A76616C75650204C3A900";

    [Fact]
    public void One_record_batch_is_byte_identical_to_the_reference_encoding()
    {
        var builder = new RecordBatchBuilder();
        builder.Append(BatchSamples.Timestamp, "k"u8.ToArray(), "v"u8.ToArray());

        Assert.Equal(OneRecordHex, Convert.ToHexString(builder.Build()));
    }

    [Fact]
    public void One_record_batch_fields_sit_at_kafka_offsets()
    {
        var b = Convert.FromHexString(OneRecordHex);

        Assert.Equal(70, b.Length);
        Assert.Equal(0L, BinaryPrimitives.ReadInt64BigEndian(b.AsSpan(0)));          // baseOffset
        Assert.Equal(70 - 12, BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(8)));     // batchLength
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(12)));          // partitionLeaderEpoch
        Assert.Equal(2, b[16]);                                                       // magic
        Assert.Equal(Crc32C.Compute(b.AsSpan(21)), BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(17))); // crc
        Assert.Equal(0, BinaryPrimitives.ReadInt16BigEndian(b.AsSpan(21)));          // attributes
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(23)));          // lastOffsetDelta
        Assert.Equal(BatchSamples.Timestamp, BinaryPrimitives.ReadInt64BigEndian(b.AsSpan(27))); // baseTimestamp
        Assert.Equal(BatchSamples.Timestamp, BinaryPrimitives.ReadInt64BigEndian(b.AsSpan(35))); // maxTimestamp
        Assert.Equal(-1L, BinaryPrimitives.ReadInt64BigEndian(b.AsSpan(43)));        // producerId
        Assert.Equal(-1, BinaryPrimitives.ReadInt16BigEndian(b.AsSpan(51)));         // producerEpoch
        Assert.Equal(-1, BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(53)));         // baseSequence
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(57)));          // records count
        // The record: length 8 (zigzag 0x10), attributes, timestampDelta 0, offsetDelta 0,
        // key length 1 (0x02) "k", value length 1 (0x02) "v", no headers.
        Assert.Equal(new byte[] { 0x10, 0x00, 0x00, 0x00, 0x02, (byte)'k', 0x02, (byte)'v', 0x00 }, b[61..]);

        Assert.True(RecordBatch.TryReadHeader(b, out var h));
        Assert.Equal(0xE99B8DD8u, h.Crc);
        Assert.Equal(RecordBatch.HeaderSize, 61);
        Assert.Equal(70, h.TotalSize);
        Assert.Equal(0L, h.LastOffset);
        Assert.Equal(0, h.CompressionType);
        Assert.Equal(BatchValidation.Valid, RecordBatch.Validate(b, out _));
    }

    [Fact]
    public void Batch_with_nulls_empties_headers_and_earlier_timestamp_is_byte_identical_to_the_reference_encoding()
    {
        var builder = new RecordBatchBuilder();
        builder.Append(BatchSamples.Timestamp + 500, null, [], [new RecordHeader("h1", "x"u8.ToArray()), new RecordHeader("h2", null)]);
        builder.Append(BatchSamples.Timestamp, [], null);
        builder.Append(BatchSamples.Timestamp + 1000, "key"u8.ToArray(), "value"u8.ToArray(), [new RecordHeader("\u00e9", Array.Empty<byte>())]);

        Assert.Equal(ThreeRecordHex, Convert.ToHexString(builder.Build()));
    }

    [Fact]
    public void Reference_encoded_batch_reads_back_every_field()
    {
        var reader = new RecordBatchReader(Convert.FromHexString(ThreeRecordHex));

        Assert.Equal(BatchSamples.Timestamp + 500, reader.Header.FirstTimestamp);
        Assert.Equal(BatchSamples.Timestamp + 1000, reader.Header.MaxTimestamp);

        Assert.True(reader.TryReadNext(out var r0));
        Assert.Equal(0L, r0.Offset);
        Assert.Equal(BatchSamples.Timestamp + 500, r0.Timestamp);
        Assert.Null(r0.Key);
        Assert.True(r0.Value.HasValue);
        Assert.Equal(0, r0.Value!.Value.Length);
        Assert.Equal(2, r0.Headers.Count);
        Assert.Equal("h1", r0.Headers[0].Key);
        Assert.Equal("x"u8.ToArray(), r0.Headers[0].Value!.Value.ToArray());
        Assert.Equal("h2", r0.Headers[1].Key);
        Assert.Null(r0.Headers[1].Value);

        Assert.True(reader.TryReadNext(out var r1));
        Assert.Equal(1L, r1.Offset);
        Assert.Equal(BatchSamples.Timestamp, r1.Timestamp);
        Assert.Equal(0, r1.Key!.Value.Length);
        Assert.Null(r1.Value);
        Assert.Empty(r1.Headers);

        Assert.True(reader.TryReadNext(out var r2));
        Assert.Equal(2L, r2.Offset);
        Assert.Equal("key", Encoding.ASCII.GetString(r2.Key!.Value.Span));
        Assert.Equal("value", Encoding.ASCII.GetString(r2.Value!.Value.Span));
        Assert.Equal("\u00e9", Assert.Single(r2.Headers).Key);

        Assert.False(reader.TryReadNext(out _));
    }
}
