using System.Buffers.Binary;
using Broker.Protocol;
using Broker.Protocol.Records;
using Broker.Protocol.Records.Compression;
using Broker.Server.Partitions;
using Broker.Server.Topics;
using Broker.Tests.Shared;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Server.Tests.Partitions;

/// <summary>Kafka's LogValidator rules, one per refused header field, with a fake clock and no node.</summary>
public sealed class BatchValidatorTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_760_000_000_000);
    private static readonly long NowMs = Now.ToUnixTimeMilliseconds();
    private static readonly TopicConfig Defaults = new(RetentionMs: 604_800_000, RetentionBytes: -1, MaxMessageBytes: 1_048_588);

    private readonly BatchValidator _validator = new(new FakeTimeProvider(Now), maxDecompressedBytes: 1 << 20);

    private BatchVerdict Check(byte[] batch, TopicConfig? config = null) => _validator.Check(batch, config ?? Defaults, "t/0");

    private static byte[] Batch(int count, long firstTimestamp, Action<byte[]>? edit = null, CompressionCodec codec = CompressionCodec.None)
    {
        var builder = new RecordBatchBuilder(compression: codec);
        for (var i = 0; i < count; i++) builder.Append(firstTimestamp + i, [(byte)i], [1, 2, 3]);
        var batch = builder.Build();
        if (edit is null) return batch;
        edit(batch);
        FixCrc(batch);
        return batch;
    }

    private static void FixCrc(byte[] batch) =>
        BinaryPrimitives.WriteUInt32BigEndian(batch.AsSpan(17), Crc32C.Compute(batch.AsSpan(21)));

    [Theory]
    [InlineData(-1L)]
    [InlineData(0L)]
    [InlineData(4_102_444_800_000L)] // year 2100
    public void CreateTime_takes_the_max_timestamp_from_the_records_not_the_header(long headerMax)
    {
        var batch = Batch(4, NowMs - 10_000, b => BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(35), headerMax));
        var verdict = Check(batch);
        Assert.True(verdict.IsAccepted, verdict.Message);
        Assert.Equal(NowMs - 10_000 + 3, verdict.MaxTimestamp);
        Assert.False(verdict.LogAppendTime);
    }

    [Fact]
    public void LogAppendTime_takes_the_leaders_clock()
    {
        var verdict = Check(Batch(3, NowMs - 999_999), Defaults with { TimestampType = MessageTimestampType.LogAppendTime });
        Assert.True(verdict.IsAccepted);
        Assert.True(verdict.LogAppendTime);
        Assert.Equal(NowMs, verdict.MaxTimestamp);
    }

    [Fact]
    public void A_record_more_than_an_hour_ahead_is_refused_with_InvalidTimestamp_naming_it()
    {
        var verdict = Check(Batch(3, NowMs + 3_600_000 - 1)); // records at +1h-1ms, +1h, +1h+1ms
        Assert.Equal(ErrorCode.InvalidTimestamp, verdict.Error);
        Assert.Equal([2], verdict.RecordErrors!.Select(e => e.BatchIndex));
        Assert.Contains("message.timestamp.after.max.ms=3600000", verdict.Message);
    }

    [Fact]
    public void Records_older_than_before_max_are_refused_and_the_default_window_is_unbounded_before()
    {
        Assert.True(Check(Batch(2, 1)).IsAccepted); // 1970: Kafka 4 accepts it by default
        var verdict = Check(Batch(2, NowMs - 60_001), Defaults with { TimestampBeforeMaxMs = 60_000 });
        Assert.Equal(ErrorCode.InvalidTimestamp, verdict.Error);
        Assert.Equal([0], verdict.RecordErrors!.Select(e => e.BatchIndex));
    }

    [Fact]
    public void LogAppendTime_topics_do_not_check_the_window()
    {
        var config = Defaults with { TimestampType = MessageTimestampType.LogAppendTime, TimestampAfterMaxMs = 0 };
        Assert.True(Check(Batch(2, NowMs + 86_400_000), config).IsAccepted);
    }

    [Fact]
    public void A_producer_that_sets_LogAppendTime_itself_is_refused()
    {
        var verdict = Check(Batch(2, NowMs, b => b[22] |= 0x08));
        Assert.Equal(ErrorCode.InvalidTimestamp, verdict.Error);
        Assert.Equal(2, verdict.RecordErrors!.Count);
    }

    [Fact]
    public void Magic_other_than_2_is_InvalidRecord()
    {
        var verdict = Check(Batch(1, NowMs, b => b[16] = 1));
        Assert.Equal(ErrorCode.InvalidRecord, verdict.Error);
        Assert.Contains("magic 1", verdict.Message);
    }

    [Fact]
    public void A_wrong_crc_is_CorruptRecord()
    {
        var batch = Batch(2, NowMs);
        batch[^1] ^= 0xFF;
        Assert.Equal(ErrorCode.CorruptRecord, Check(batch).Error);
    }

    [Fact]
    public void A_length_field_that_does_not_match_is_CorruptRecord()
    {
        var batch = Batch(2, NowMs);
        Assert.Equal(ErrorCode.CorruptRecord, Check(batch[..^1]).Error);
    }

    [Fact]
    public void Record_count_and_last_offset_delta_that_disagree_are_InvalidRecord()
    {
        var verdict = Check(Batch(3, NowMs, b => BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(23), 5)));
        Assert.Equal(ErrorCode.InvalidRecord, verdict.Error);
        Assert.Contains("last offset delta 5", verdict.Message);
    }

    [Fact]
    public void A_record_count_larger_than_the_records_present_is_InvalidRecord()
    {
        var verdict = Check(Batch(3, NowMs, b =>
        {
            BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(57), 4);
            BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(23), 3);
        }));
        Assert.Equal(ErrorCode.InvalidRecord, verdict.Error);
        Assert.Contains("counts 4 records but it holds 3", verdict.Message);
    }

    [Fact]
    public void Offset_deltas_out_of_order_are_InvalidRecord_with_the_record_named()
    {
        var verdict = Check(Batch(3, NowMs, b => b[RecordBatch.HeaderSize + 3] = 4)); // record 0's offset delta: 2
        Assert.Equal(ErrorCode.InvalidRecord, verdict.Error);
        Assert.Equal(0, Assert.Single(verdict.RecordErrors!).BatchIndex);
    }

    [Fact]
    public void Control_and_transactional_batches_are_InvalidRecord()
    {
        Assert.Equal(ErrorCode.InvalidRecord, Check(Batch(1, NowMs, b => b[22] |= 0x20)).Error);
        var transactional = Check(Batch(1, NowMs, b => b[22] |= 0x10));
        Assert.Equal(ErrorCode.InvalidRecord, transactional.Error);
        Assert.Contains("transactions", transactional.Message);
    }

    [Theory]
    [InlineData(-1, (short)0)]
    [InlineData(0, (short)-1)]
    public void A_producer_id_without_a_sequence_or_epoch_is_InvalidRecord(int sequence, short epoch)
    {
        var verdict = Check(Batch(1, NowMs, b => RecordBatch.SetProducer(b, 42, epoch, sequence)));
        Assert.Equal(ErrorCode.InvalidRecord, verdict.Error);
        Assert.Contains("producer 42", verdict.Message);
    }

    [Fact]
    public void A_batch_over_max_message_bytes_is_RecordTooLarge()
    {
        var batch = Batch(10, NowMs);
        Assert.Equal(ErrorCode.RecordTooLarge, Check(batch, Defaults with { MaxMessageBytes = batch.Length - 1 }).Error);
    }

    [Fact]
    public void A_compressed_batch_that_expands_past_the_cap_is_RecordTooLarge()
    {
        var bomb = CompressionBombs.Batch(CompressionCodec.Zstd, 16 * 1024 * 1024);
        var verdict = Check(bomb);
        Assert.Equal(ErrorCode.RecordTooLarge, verdict.Error);
        Assert.Contains("max-decompressed-batch-bytes", verdict.Message);
    }

    [Fact]
    public void Compressed_records_that_do_not_decompress_are_CorruptRecord()
    {
        var verdict = Check(Batch(2, NowMs, b => BinaryPrimitives.WriteInt16BigEndian(b.AsSpan(21), (short)CompressionCodec.Lz4)));
        Assert.Equal(ErrorCode.CorruptRecord, verdict.Error);
        Assert.Contains("lz4", verdict.Message);
    }
}
