// The reader throws InvalidDataException, never another exception, on malformed or unsupported record bytes.
using System.Buffers.Binary;
using Broker.Protocol.Records;
using Xunit;

namespace Broker.Protocol.Tests.Records;

public class RecordBatchReaderMalformedTests
{
    [Fact]
    public void Batch_shorter_than_a_header_throws_at_construction()
    {
        Assert.Throws<InvalidDataException>(() => new RecordBatchReader(new byte[60]));
    }

    [Fact]
    public void Record_count_above_the_records_present_throws_at_the_end()
    {
        var bytes = BatchSamples.Batch(2);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(57), 3);
        var reader = new RecordBatchReader(bytes);

        Assert.True(reader.TryReadNext(out _));
        Assert.True(reader.TryReadNext(out _));
        Assert.Throws<InvalidDataException>(() => reader.TryReadNext(out _));
    }

    [Fact]
    public void Bytes_after_the_last_counted_record_throw()
    {
        var bytes = BatchSamples.Batch(2);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(57), 1);
        var reader = new RecordBatchReader(bytes);

        Assert.True(reader.TryReadNext(out _));
        Assert.Throws<InvalidDataException>(() => reader.TryReadNext(out _));
    }

    [Fact]
    public void Reader_stops_at_its_batch_when_given_a_longer_buffer()
    {
        var a = BatchSamples.Batch(2);
        var both = BatchSamples.Concat(a, BatchSamples.Batch(3, baseOffset: 2));

        var reader = new RecordBatchReader(both);
        var count = 0;
        while (reader.TryReadNext(out _)) count++;

        Assert.Equal(2, count);
    }

    [Fact]
    public void Batch_marked_compressed_whose_records_are_not_throws_rather_than_decoding_garbage()
    {
        var bytes = BatchSamples.Batch(1);
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(21), 4); // zstd, but the records are plain

        Assert.Throws<InvalidDataException>(() => new RecordBatchReader(bytes));
    }

    [Fact]
    public void LogAppendTime_batch_gives_every_record_the_max_timestamp()
    {
        var builder = new RecordBatchBuilder();
        builder.Append(100, null, "a"u8.ToArray());
        builder.Append(300, null, "b"u8.ToArray());
        var bytes = builder.Build();
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(21), 0x08);

        var records = RecordBatchRoundTripTests.ReadAll(bytes);

        Assert.All(records, r => Assert.Equal(300, r.Timestamp));
    }

    [Fact]
    public void Every_truncation_of_a_batch_throws_InvalidDataException_or_ends_cleanly()
    {
        var full = BuildWithHeaders();
        for (var length = RecordBatch.HeaderSize; length < full.Length; length++)
        {
            var reader = new RecordBatchReader(full.AsMemory(0, length));
            var ex = Xunit.Record.Exception(() => { while (reader.TryReadNext(out _)) { } });
            Assert.IsType<InvalidDataException>(ex);
        }
    }

    [Fact]
    public void Random_corruption_of_the_records_never_throws_anything_but_InvalidDataException()
    {
        var original = BuildWithHeaders();
        var random = new Random(11);
        for (var trial = 0; trial < 5000; trial++)
        {
            var bytes = (byte[])original.Clone();
            var flips = random.Next(1, 4);
            for (var f = 0; f < flips; f++)
                bytes[random.Next(RecordBatch.HeaderSize, bytes.Length)] = (byte)random.Next(256);

            var reader = new RecordBatchReader(bytes);
            var ex = Xunit.Record.Exception(() => { while (reader.TryReadNext(out _)) { } });
            if (ex is not null) Assert.IsType<InvalidDataException>(ex);
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x00 })]                                  // record length 0
    [InlineData(new byte[] { 0x01 })]                                  // record length -1
    [InlineData(new byte[] { 0xFE, 0xFF, 0xFF, 0xFF, 0x0F })]          // record length int.MaxValue
    [InlineData(new byte[] { 0x02, 0x00 })]                            // length 1: attributes only, fields missing
    [InlineData(new byte[] { 0x10, 0x00, 0x00, 0x00, 0xFE, 0xFF, 0xFF, 0xFF, 0x0F })]             // key length int.MaxValue
    [InlineData(new byte[] { 0x0C, 0x00, 0x00, 0x00, 0x03, 0x01, 0x00 })]                         // key length -2
    [InlineData(new byte[] { 0x0C, 0x00, 0x00, 0x00, 0x01, 0x01, 0x7F })]                         // header count -64
    [InlineData(new byte[] { 0x0C, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02 })]                         // one header, no bytes left for it
    [InlineData(new byte[] { 0x0A, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00 })]                         // length 5 but fields take 6
    [InlineData(new byte[] { 0x0E, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00 })]                   // length 7 but fields take 6
    public void Hand_made_malformed_record_throws_InvalidDataException(byte[] record)
    {
        var reader = new RecordBatchReader(OneRecordBatch(record));

        Assert.Throws<InvalidDataException>(() => reader.TryReadNext(out _));
    }

    [Fact]
    public void Hand_made_well_formed_record_reads_back()
    {
        // The control for the malformed cases: length 6, attributes, deltas 0, null key, null value, no headers.
        var reader = new RecordBatchReader(OneRecordBatch([0x0C, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00]));

        Assert.True(reader.TryReadNext(out var record));
        Assert.Null(record.Key);
        Assert.Null(record.Value);
        Assert.False(reader.TryReadNext(out _));
    }

    private static byte[] OneRecordBatch(byte[] record)
    {
        var header = BatchSamples.Batch(1).AsSpan(0, RecordBatch.HeaderSize).ToArray();
        var bytes = BatchSamples.Concat(header, record);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), bytes.Length - 12);
        return bytes;
    }

    private static byte[] BuildWithHeaders()
    {
        var builder = new RecordBatchBuilder();
        builder.Append(1, "key"u8.ToArray(), "value"u8.ToArray(), [new RecordHeader("h", "x"u8.ToArray()), new RecordHeader("n", null)]);
        builder.Append(2, null, new byte[300]);
        builder.Append(3, [], null, [new RecordHeader("only", Array.Empty<byte>())]);
        return builder.Build();
    }
}
