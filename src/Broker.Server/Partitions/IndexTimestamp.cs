using Broker.Protocol.Records;

namespace Broker.Server.Partitions;

/// <summary>
/// The time the offset index keeps for a stored batch, which retention and ListOffsets act on. A leader of this
/// version writes the records' true max timestamp (or its append time) into every batch it appends, so the header
/// is trusted when it is consistent. A batch stored before that (a client left MaxTimestamp at -1 or 0), or whose
/// records carry no timestamps, is read: its records say when they were made. A batch whose records give no time
/// at all is indexed at <c>now</c>, the time this replica stored or recovered it, as Kafka falls back to a segment's
/// modification time: that can only delay its retention, never hasten it.
/// </summary>
internal static class IndexTimestamp
{
    public static long For(ReadOnlyMemory<byte> batch, in RecordBatchHeader header, long now)
    {
        if (header.IsLogAppendTime) return header.MaxTimestamp >= 0 ? header.MaxTimestamp : now;
        // The max of the records is at least the first record's time, the header's first timestamp.
        if (header.MaxTimestamp >= 0 && header.MaxTimestamp >= header.FirstTimestamp) return header.MaxTimestamp;
        var fromRecords = RecordsScan.MaxTimestampOf(batch);
        return fromRecords >= 0 ? fromRecords : now;
    }

    /// <summary>True if an index entry restored from a snapshot may hold a client's unchecked header value (before this version).</summary>
    public static bool IsSuspect(long indexed) => indexed <= 0;
}
