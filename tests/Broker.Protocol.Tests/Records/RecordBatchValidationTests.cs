// Every BatchValidation outcome, and in-place rewrites of the fields outside the CRC.
using System.Buffers.Binary;
using Broker.Protocol.Records;
using Xunit;

namespace Broker.Protocol.Tests.Records;

public class RecordBatchValidationTests
{
    [Fact]
    public void Built_batch_is_Valid()
    {
        Assert.Equal(BatchValidation.Valid, RecordBatch.Validate(BatchSamples.Batch(3), out var header));
        Assert.Equal(3, header.RecordCount);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(12)]
    [InlineData(60)]
    public void Bytes_shorter_than_a_header_are_TooShort(int length)
    {
        var bytes = BatchSamples.Batch(1)[..length];

        Assert.Equal(BatchValidation.TooShort, RecordBatch.Validate(bytes, out _));
        Assert.False(RecordBatch.TryReadHeader(bytes, out _));
    }

    [Fact]
    public void Truncated_batch_is_LengthMismatch()
    {
        var bytes = BatchSamples.Batch(3);

        Assert.Equal(BatchValidation.LengthMismatch, RecordBatch.Validate(bytes.AsSpan(0, bytes.Length - 1), out _));
    }

    [Fact]
    public void Trailing_bytes_after_the_batch_are_LengthMismatch()
    {
        var bytes = BatchSamples.Concat(BatchSamples.Batch(1), [0]);

        Assert.Equal(BatchValidation.LengthMismatch, RecordBatch.Validate(bytes, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void Magic_other_than_2_is_UnsupportedMagic(byte magic)
    {
        var bytes = BatchSamples.Batch(1);
        bytes[16] = magic;

        Assert.Equal(BatchValidation.UnsupportedMagic, RecordBatch.Validate(bytes, out var header));
        Assert.Equal(magic, header.Magic);
    }

    [Fact]
    public void Flipping_any_byte_from_attributes_to_the_end_is_CorruptCrc()
    {
        var original = BatchSamples.Batch(2);
        for (var i = 21; i < original.Length; i++)
        {
            var bytes = (byte[])original.Clone();
            bytes[i] ^= 0x01;

            Assert.Equal(BatchValidation.CorruptCrc, RecordBatch.Validate(bytes, out _));
        }
    }

    [Fact]
    public void Corrupt_crc_field_is_CorruptCrc()
    {
        var bytes = BatchSamples.Batch(1);
        bytes[20] ^= 0xFF;

        Assert.Equal(BatchValidation.CorruptCrc, RecordBatch.Validate(bytes, out _));
    }

    [Fact]
    public void Record_count_disagreeing_with_last_offset_delta_is_InvalidRecordCount()
    {
        var bytes = BatchSamples.Batch(3);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(57), 4);
        BatchSamples.FixCrc(bytes);

        Assert.Equal(BatchValidation.InvalidRecordCount, RecordBatch.Validate(bytes, out _));
    }

    [Fact]
    public void Zero_record_count_is_InvalidRecordCount()
    {
        var bytes = BatchSamples.Batch(1);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(23), -1); // lastOffsetDelta = count - 1 = -1
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(57), 0);
        BatchSamples.FixCrc(bytes);

        Assert.Equal(BatchValidation.InvalidRecordCount, RecordBatch.Validate(bytes, out _));
    }

    [Fact]
    public void SetBaseOffset_keeps_the_crc_valid_and_moves_every_record_offset()
    {
        var bytes = BatchSamples.Batch(3);
        var crcBefore = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(17));

        RecordBatch.SetBaseOffset(bytes, 5_000_000_000);

        Assert.Equal(BatchValidation.Valid, RecordBatch.Validate(bytes, out var header));
        Assert.Equal(crcBefore, header.Crc);
        Assert.Equal(5_000_000_000, header.BaseOffset);
        Assert.Equal(5_000_000_002, header.LastOffset);
        var offsets = RecordBatchRoundTripTests.ReadAll(bytes).Select(r => r.Offset);
        Assert.Equal([5_000_000_000L, 5_000_000_001, 5_000_000_002], offsets);
    }

    [Fact]
    public void SetProducer_stamps_id_epoch_and_sequence_and_computes_the_crc_again()
    {
        var bytes = BatchSamples.Batch(2);
        var crcBefore = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(17));

        RecordBatch.SetProducer(bytes, 42L << 32 | 7, 3, 1000);

        Assert.Equal(BatchValidation.Valid, RecordBatch.Validate(bytes, out var header));
        Assert.NotEqual(crcBefore, header.Crc);
        Assert.Equal((42L << 32 | 7, (short)3, 1000), (header.ProducerId, header.ProducerEpoch, header.BaseSequence));
        Assert.Throws<ArgumentException>(() => RecordBatch.SetProducer(new byte[10], 1, 0, 0));
    }

    [Fact]
    public void SetPartitionLeaderEpoch_keeps_the_crc_valid()
    {
        var bytes = BatchSamples.Batch(2);

        RecordBatch.SetPartitionLeaderEpoch(bytes, 17);

        Assert.Equal(BatchValidation.Valid, RecordBatch.Validate(bytes, out var header));
        Assert.Equal(17, header.PartitionLeaderEpoch);
    }

    [Fact]
    public void Header_derived_properties_follow_kafka_definitions()
    {
        var bytes = BatchSamples.Batch(4, baseOffset: 10);
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(21), 0x0B); // LogAppendTime | lz4 (3)

        Assert.True(RecordBatch.TryReadHeader(bytes, out var header));
        Assert.Equal(bytes.Length, header.TotalSize);
        Assert.Equal(header.BatchLength + 12, header.TotalSize);
        Assert.Equal(13L, header.LastOffset);
        Assert.Equal(3, header.CompressionType);
    }
}
