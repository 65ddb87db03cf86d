using System.Buffers.Binary;
using Broker.Protocol.Records;
using Broker.Protocol.Records.Compression;
using Broker.Tests.Shared;
using Xunit;

namespace Broker.Protocol.Tests.Records;

/// <summary>The record walk a leader runs on every batch: framing against the header, offset deltas, timestamps, the decompression cap.</summary>
public sealed class RecordsScanTests
{
    private const int RecordsAt = RecordBatch.HeaderSize;

    private static RecordsSummary Scan(byte[] batch, long min = long.MinValue, long max = long.MaxValue, int cap = 1 << 20) =>
        Scan(batch, out _, min, max, cap);

    private static RecordsSummary Scan(byte[] batch, out List<int>? outOfWindow, long min = long.MinValue, long max = long.MaxValue, int cap = 1 << 20)
    {
        Assert.True(RecordBatch.TryReadHeader(batch, out var header));
        outOfWindow = null;
        return RecordsScan.Scan(batch, header, cap, min, max, ref outOfWindow);
    }

    [Fact]
    public void A_valid_batch_gives_its_records_max_timestamp_whatever_the_header_says()
    {
        var batch = BatchSamples.Batch(5);
        BinaryPrimitives.WriteInt64BigEndian(batch.AsSpan(35), -1); // MaxTimestamp left at -1 by a client
        BatchSamples.FixCrc(batch);

        var summary = Scan(batch);

        Assert.True(summary.IsValid, summary.Detail);
        Assert.Equal(BatchSamples.Timestamp + 4, summary.MaxTimestamp);
        Assert.Equal(4, summary.MaxTimestampOffsetDelta);
        Assert.Equal(BatchSamples.Timestamp + 4, RecordsScan.MaxTimestampOf(batch));
    }

    [Fact]
    public void Records_without_timestamps_give_no_max_timestamp()
    {
        var builder = new RecordBatchBuilder();
        builder.Append(-1, [1], [2]);
        var summary = Scan(builder.Build());
        Assert.True(summary.IsValid);
        Assert.Equal(RecordBatch.NoTimestamp, summary.MaxTimestamp);
    }

    [Fact]
    public void Fewer_records_than_the_header_counts_is_a_count_mismatch()
    {
        var batch = BatchSamples.Batch(3);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(57), 4); // record count
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(23), 3); // last offset delta, consistent with it

        var summary = Scan(batch);

        Assert.Equal(RecordsProblem.CountMismatch, summary.Problem);
        Assert.Contains("counts 4 records but it holds 3", summary.Detail);
    }

    [Fact]
    public void More_records_than_the_header_counts_is_a_count_mismatch_at_the_extra_record()
    {
        var batch = BatchSamples.Batch(3);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(57), 2);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(23), 1);

        var summary = Scan(batch);

        Assert.Equal(RecordsProblem.CountMismatch, summary.Problem);
        Assert.Equal(2, summary.RecordIndex);
    }

    [Fact]
    public void An_offset_delta_out_of_order_is_refused_at_that_record()
    {
        var batch = BatchSamples.Batch(3);
        // Record 0: [length][attributes][timestamp delta 0][offset delta 0]: make its offset delta 1 (zig-zag 2).
        Assert.Equal(0, batch[RecordsAt + 3]);
        batch[RecordsAt + 3] = 2;

        var summary = Scan(batch);

        Assert.Equal(RecordsProblem.OffsetDeltaOutOfOrder, summary.Problem);
        Assert.Equal(0, summary.RecordIndex);
        Assert.Contains("offset delta 1", summary.Detail);
    }

    [Fact]
    public void A_record_length_past_the_batch_end_is_malformed()
    {
        var batch = BatchSamples.Batch(2);
        batch[RecordsAt] = 0x7E; // zig-zag 63: longer than what is left
        Assert.Equal(RecordsProblem.Malformed, Scan(batch).Problem);
    }

    [Fact]
    public void Records_outside_the_timestamp_window_are_listed_by_index()
    {
        var batch = BatchSamples.Batch(5);
        var summary = Scan(batch, out var outOfWindow, min: BatchSamples.Timestamp + 1, max: BatchSamples.Timestamp + 3);
        Assert.True(summary.IsValid);
        Assert.Equal([0, 4], outOfWindow);
    }

    [Fact]
    public void A_compressed_batch_is_scanned_inside()
    {
        var builder = new RecordBatchBuilder(compression: CompressionCodec.Zstd);
        for (var i = 0; i < 10; i++) builder.Append(BatchSamples.Timestamp + 10 - i, [1], [2, 3]);
        var summary = Scan(builder.Build());
        Assert.True(summary.IsValid, summary.Detail);
        Assert.Equal(BatchSamples.Timestamp + 10, summary.MaxTimestamp);
        Assert.Equal(0, summary.MaxTimestampOffsetDelta);
    }

    [Theory]
    [InlineData(CompressionCodec.Gzip)]
    [InlineData(CompressionCodec.Zstd)]
    [InlineData(CompressionCodec.Lz4)]
    [InlineData(CompressionCodec.Snappy)]
    public void A_batch_that_decompresses_past_the_cap_is_refused_without_decompressing_it_all(CompressionCodec codec)
    {
        var batch = CompressionBombs.Batch(codec, 64 * 1024 * 1024);
        var before = GC.GetAllocatedBytesForCurrentThread();

        var summary = Scan(batch, cap: 1 << 20);

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(RecordsProblem.DecompressedTooLarge, summary.Problem);
        Assert.Contains("more than 1048576 bytes", summary.Detail);
        Assert.True(allocated < 16 * 1024 * 1024, $"the scan allocated {allocated} bytes for a 64 MiB bomb with a 1 MiB cap");
    }

    [Fact]
    public void A_batch_exactly_at_the_cap_still_reads()
    {
        var builder = new RecordBatchBuilder(compression: CompressionCodec.Gzip);
        builder.Append(BatchSamples.Timestamp, [1], new byte[1000]);
        var batch = builder.Build();
        var decompressed = RecordCompression.Decompress(CompressionCodec.Gzip, batch.AsMemory(RecordsAt)).Length;
        Assert.True(Scan(batch, cap: decompressed).IsValid);
        Assert.Equal(RecordsProblem.DecompressedTooLarge, Scan(batch, cap: decompressed - 1).Problem);
    }

    [Fact]
    public void Readers_keep_a_default_cap_too()
    {
        var batch = CompressionBombs.Batch(CompressionCodec.Zstd, 8 * 1024 * 1024);
        var ex = Assert.Throws<InvalidDataException>(() => RecordCompression.Decompress(CompressionCodec.Zstd, batch.AsMemory(RecordsAt), maxBytes: 1 << 20));
        Assert.Contains("decompress to more than", ex.Message);
    }
}
