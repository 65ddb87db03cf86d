using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Server.Topics;

namespace Broker.Server.Partitions;

/// <summary>
/// What a leader does with a client's batch: append it, stamped with <see cref="MaxTimestamp"/> (and the
/// LogAppendTime flag), or refuse it with <see cref="Error"/>, a message that names the field, and for record-level
/// problems the records by index (Kafka's RecordErrors). A struct: every produced batch gets one.
/// </summary>
internal readonly record struct BatchVerdict(
    ErrorCode Error, string? Message, IReadOnlyList<RecordError>? RecordErrors,
    RecordBatchHeader Header, long MaxTimestamp, bool LogAppendTime)
{
    public bool IsAccepted => Error == ErrorCode.None;

    public static BatchVerdict Refuse(ErrorCode error, string message, IReadOnlyList<RecordError>? recordErrors = null) =>
        new(error, message, recordErrors, default, RecordBatch.NoTimestamp, false);
}

/// <summary>
/// Kafka's LogValidator for one RecordBatch v2 from a client (either door: the Kafka listener or the native
/// gateway). The node never trusts a header field it relies on: it checks the framing, CRC, counts, offset deltas,
/// producer fields and compressed size, and computes the max timestamp from the records (CreateTime) or takes its
/// own clock (LogAppendTime); the leader writes that value into the batch, so followers, retention, ListOffsets and
/// consumers all see the same one. Nothing here touches the log; the clock is injected.
/// </summary>
internal sealed class BatchValidator(TimeProvider clock, int maxDecompressedBytes)
{
    public BatchVerdict Check(ReadOnlyMemory<byte> batch, TopicConfig config, string partition)
    {
        var validation = RecordBatch.Validate(batch.Span, out var header);
        if (validation != BatchValidation.Valid) return RefuseHeader(validation, header, partition);
        if (batch.Length > config.MaxMessageBytes)
        {
            return BatchVerdict.Refuse(ErrorCode.RecordTooLarge,
                $"batch of {batch.Length} bytes exceeds max.message.bytes={config.MaxMessageBytes} of {partition}'s topic; send smaller batches or raise the topic's max.message.bytes");
        }
        if (header.IsControl)
            return BatchVerdict.Refuse(ErrorCode.InvalidRecord, $"rejected batch for {partition}: clients may not write control batches (attribute bit 5)");
        if (header.IsTransactional)
            return BatchVerdict.Refuse(ErrorCode.InvalidRecord, $"rejected batch for {partition}: it is transactional (attribute bit 4), and this broker does not support transactions; produce without a transactional id");
        if (header.ProducerId >= 0 && (header.BaseSequence < 0 || header.ProducerEpoch < 0))
        {
            return BatchVerdict.Refuse(ErrorCode.InvalidRecord,
                $"rejected batch for {partition}: it names producer {header.ProducerId} but base sequence {header.BaseSequence} and epoch {header.ProducerEpoch}; an idempotent producer numbers its batches from 0 in an epoch >= 0");
        }
        if (header.IsLogAppendTime)
        {
            return BatchVerdict.Refuse(ErrorCode.InvalidTimestamp,
                $"rejected batch for {partition}: the producer set the timestamp type to LogAppendTime (attribute bit 3); only the broker sets it",
                EveryRecord(header.RecordCount, "Producer should not set timestamp type to LogAppendTime."));
        }

        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var createTime = config.TimestampType == MessageTimestampType.CreateTime;
        var (earliest, latest) = createTime ? Window(now, config) : (long.MinValue, long.MaxValue);
        List<int>? outOfWindow = null;
        var records = RecordsScan.Scan(batch, header, maxDecompressedBytes, earliest, latest, ref outOfWindow);
        if (!records.IsValid) return RefuseRecords(records, partition);
        if (outOfWindow is not null)
        {
            var errors = new RecordError[outOfWindow.Count];
            for (var i = 0; i < errors.Length; i++)
                errors[i] = new RecordError(outOfWindow[i], $"timestamp out of range [{earliest}, {latest}]");
            return BatchVerdict.Refuse(ErrorCode.InvalidTimestamp,
                $"rejected batch for {partition}: {errors.Length} record(s), the first at index {outOfWindow[0]}, have timestamps outside [{earliest}, {latest}] " +
                $"(now {now} minus message.timestamp.before.max.ms={config.TimestampBeforeMaxMs}, plus message.timestamp.after.max.ms={config.TimestampAfterMaxMs}); " +
                "fix the producer's clock or the records' timestamps, or widen the topic's window", errors);
        }
        return createTime
            ? new BatchVerdict(ErrorCode.None, null, null, header, records.MaxTimestamp, LogAppendTime: false)
            : new BatchVerdict(ErrorCode.None, null, null, header, now, LogAppendTime: true);
    }

    // Kafka's rule: now - ts > before or ts - now > after is out; both bounds saturate instead of overflowing.
    private static (long Earliest, long Latest) Window(long now, TopicConfig config) => (
        config.TimestampBeforeMaxMs >= now ? long.MinValue : now - config.TimestampBeforeMaxMs,
        config.TimestampAfterMaxMs >= long.MaxValue - now ? long.MaxValue : now + config.TimestampAfterMaxMs);

    private static BatchVerdict RefuseHeader(BatchValidation validation, in RecordBatchHeader header, string partition) => validation switch
    {
        BatchValidation.UnsupportedMagic => BatchVerdict.Refuse(ErrorCode.InvalidRecord,
            $"rejected batch for {partition}: magic {header.Magic}; only RecordBatch v2 (magic 2) is accepted, as by Kafka 4 (message formats v0 and v1 are gone); upgrade the client"),
        BatchValidation.InvalidRecordCount => BatchVerdict.Refuse(ErrorCode.InvalidRecord,
            $"rejected batch for {partition}: record count {header.RecordCount} does not match last offset delta {header.LastOffsetDelta} (a batch of n records has last offset delta n-1, n >= 1)"),
        _ => BatchVerdict.Refuse(ErrorCode.CorruptRecord, $"rejected batch for {partition}: {Describe(validation)}"),
    };

    private static BatchVerdict RefuseRecords(in RecordsSummary records, string partition)
    {
        var message = $"rejected batch for {partition}: {records.Detail}";
        IReadOnlyList<RecordError>? errors = records.RecordIndex >= 0 ? [new RecordError(records.RecordIndex, records.Detail)] : null;
        return records.Problem switch
        {
            RecordsProblem.DecompressedTooLarge => BatchVerdict.Refuse(ErrorCode.RecordTooLarge,
                message + " (broker.limits.max-decompressed-batch-bytes); send smaller batches"),
            RecordsProblem.DoesNotDecompress => BatchVerdict.Refuse(ErrorCode.CorruptRecord, message),
            _ => BatchVerdict.Refuse(ErrorCode.InvalidRecord, message, errors),
        };
    }

    private static RecordError[] EveryRecord(int count, string message)
    {
        var errors = new RecordError[Math.Max(0, count)];
        for (var i = 0; i < errors.Length; i++) errors[i] = new RecordError(i, message);
        return errors;
    }

    private static string Describe(BatchValidation v) => v switch
    {
        BatchValidation.TooShort => "shorter than a RecordBatch header",
        BatchValidation.LengthMismatch => "batch length field does not match the bytes sent",
        BatchValidation.CorruptCrc => "CRC-32C does not match the batch contents (corrupted in transit?)",
        BatchValidation.UnknownCompression => "attribute bits 0-2 name a compression codec Kafka does not define (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)",
        _ => v.ToString(),
    };
}
