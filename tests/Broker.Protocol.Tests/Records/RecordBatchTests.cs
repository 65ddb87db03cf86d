using System.Buffers.Binary;
using System.Text;
using Broker.Protocol.Records;
using Xunit;

namespace Broker.Protocol.Tests.Records;

public sealed class RecordBatchTests
{
    private static byte[] Build(params (string? Key, string? Value)[] records)
    {
        var builder = new RecordBatchBuilder(64);
        var t = 1_700_000_000_000L;
        foreach (var (key, value) in records)
            builder.Append(t++, key is null ? null : Encoding.UTF8.GetBytes(key), value is null ? null : Encoding.UTF8.GetBytes(value));
        return builder.Build();
    }

    [Fact]
    public void Round_trips_keys_values_nulls_headers_and_timestamps()
    {
        var builder = new RecordBatchBuilder(16);
        builder.Append(1000, "k1"u8.ToArray(), "v1"u8.ToArray(), [new RecordHeader("h", "x"u8.ToArray()), new RecordHeader("n", null)]);
        builder.Append(999, null, null);
        builder.Append(1005, [], new byte[300]);
        var batch = builder.Build(baseOffset: 40);
        Assert.Equal(builder.SizeInBytes, batch.Length);

        Assert.Equal(BatchValidation.Valid, RecordBatch.Validate(batch, out var header));
        Assert.Equal(40, header.BaseOffset);
        Assert.Equal(3, header.RecordCount);
        Assert.Equal(1000, header.FirstTimestamp);
        Assert.Equal(1005, header.MaxTimestamp);
        Assert.Equal(42, header.LastOffset);

        var reader = new RecordBatchReader(batch);
        Assert.True(reader.TryReadNext(out var r0));
        Assert.Equal(40, r0.Offset);
        Assert.Equal("k1", Encoding.UTF8.GetString(r0.Key!.Value.Span));
        Assert.Equal("v1", Encoding.UTF8.GetString(r0.Value!.Value.Span));
        Assert.Equal(["h", "n"], r0.Headers.Select(h => h.Key));
        Assert.Equal("x", Encoding.UTF8.GetString(r0.Headers[0].Value!.Value.Span));
        Assert.Null(r0.Headers[1].Value);
        Assert.True(reader.TryReadNext(out var r1));
        Assert.Equal((41L, 999L), (r1.Offset, r1.Timestamp));
        Assert.Null(r1.Key);
        Assert.Null(r1.Value);
        Assert.True(reader.TryReadNext(out var r2));
        Assert.Equal(0, r2.Key!.Value.Length);
        Assert.Equal(300, r2.Value!.Value.Length);
        Assert.False(reader.TryReadNext(out _));
    }

    [Fact]
    public void Header_fields_are_at_Kafka_v2_positions()
    {
        var batch = Build(("a", "b"));
        Assert.Equal(batch.Length - 12, BinaryPrimitives.ReadInt32BigEndian(batch.AsSpan(8)));
        Assert.Equal(2, batch[16]);                                                      // magic
        Assert.Equal(Crc32C.Compute(batch.AsSpan(21)), BinaryPrimitives.ReadUInt32BigEndian(batch.AsSpan(17)));
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(batch.AsSpan(23)));        // last offset delta
        Assert.Equal(-1L, BinaryPrimitives.ReadInt64BigEndian(batch.AsSpan(43)));      // producer id
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(batch.AsSpan(57)));        // record count
        // record: length 8 (zigzag 16), attributes 0, ts delta 0, offset delta 0, key len 1 (zigzag 2) 'a', value len 1 'b', 0 headers
        Assert.Equal(new byte[] { 16, 0, 0, 0, 2, (byte)'a', 2, (byte)'b', 0 }, batch.AsSpan(61).ToArray());
    }

    [Fact]
    public void Flipped_byte_is_CorruptCrc()
    {
        var batch = Build(("k", "value"));
        batch[^2] ^= 1;
        Assert.Equal(BatchValidation.CorruptCrc, RecordBatch.Validate(batch, out _));
    }

    [Fact]
    public void Setting_base_offset_keeps_the_crc_valid()
    {
        var batch = Build(("k", "v"), ("k2", "v2"));
        RecordBatch.SetBaseOffset(batch, 123_456);
        RecordBatch.SetPartitionLeaderEpoch(batch, 7);
        Assert.Equal(BatchValidation.Valid, RecordBatch.Validate(batch, out var header));
        Assert.Equal(123_456, header.BaseOffset);
        Assert.Equal(7, header.PartitionLeaderEpoch);
    }

    [Fact]
    public void Wrong_magic_truncation_and_count_mismatch_are_reported()
    {
        var batch = Build(("k", "v"));
        Assert.Equal(BatchValidation.TooShort, RecordBatch.Validate(batch.AsSpan(0, 30), out _));
        Assert.Equal(BatchValidation.LengthMismatch, RecordBatch.Validate(batch.AsSpan(0, batch.Length - 1), out _));

        var magic = (byte[])batch.Clone();
        magic[16] = 1;
        Assert.Equal(BatchValidation.UnsupportedMagic, RecordBatch.Validate(magic, out _));

        var count = (byte[])batch.Clone();
        BinaryPrimitives.WriteInt32BigEndian(count.AsSpan(57), 5);
        BinaryPrimitives.WriteUInt32BigEndian(count.AsSpan(17), Crc32C.Compute(count.AsSpan(21)));
        Assert.Equal(BatchValidation.InvalidRecordCount, RecordBatch.Validate(count, out _));
    }

    [Fact]
    public void TryReadNext_walks_concatenated_batches_and_stops_at_a_truncated_tail()
    {
        var a = Build(("a", "1"));
        var b = Build(("b", "2"), ("c", "3"));
        var buffer = a.Concat(b).Concat(b.AsSpan(0, 20).ToArray()).ToArray();
        var position = 0;
        Assert.True(RecordBatch.TryReadNext(buffer, ref position, out var first, out _));
        Assert.Equal(a.Length, first.Length);
        Assert.True(RecordBatch.TryReadNext(buffer, ref position, out _, out var second));
        Assert.Equal(2, second.RecordCount);
        Assert.False(RecordBatch.TryReadNext(buffer, ref position, out _, out _));
    }

    [Fact]
    public void Builder_is_reusable_after_reset_and_estimates_are_upper_bounds()
    {
        var builder = new RecordBatchBuilder(16);
        builder.Append(1, "k"u8.ToArray(), new byte[50]);
        var first = builder.Build();
        builder.Reset();
        var before = builder.SizeInBytes;
        builder.Append(1, "k"u8.ToArray(), new byte[50]);
        Assert.Equal(first, builder.Build());
        Assert.True(builder.SizeInBytes - before <= RecordBatchBuilder.EstimateRecordSize(1, 50, null));
    }

    [Fact]
    public void Reader_rejects_a_record_that_runs_past_its_batch()
    {
        var batch = Build(("key", "value"));
        batch[61] = 0x7E; // record length far larger than the batch
        Assert.Throws<InvalidDataException>(() =>
        {
            var reader = new RecordBatchReader(batch);
            reader.TryReadNext(out _);
        });
    }
}
