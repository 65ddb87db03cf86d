using Broker.Protocol.Messages;
using Broker.Protocol.Records;

namespace Broker.Server.Partitions;

/// <summary>
/// One replica's log, without an actor (Kafka's UnifiedLog): the offset index, the tail cache, the leader epoch
/// cache and the idempotent producers' states, with the log start, log end and high watermark that bound them,
/// and the offset the next append gets (ahead of the log end while a leader's appends are being written).
/// The hosting <see cref="PartitionActor"/> journals each change first and applies it here (recovery replays the
/// same calls); retention and truncation are decided here, the journal rows they free are the actor's business.
/// </summary>
internal sealed class PartitionLog
{
    private readonly TimeProvider _clock;

    public PartitionLog(long tailCacheBytes, TimeProvider clock)
    {
        _clock = clock;
        Tail = new TailCache(tailCacheBytes);
    }

    public OffsetIndex Index { get; } = new();

    public TailCache Tail { get; }

    public LeaderEpochCache Epochs { get; } = new();

    public ProducerStates Producers { get; } = new();

    /// <summary>The topic incarnation this log belongs to; null before the first <see cref="StartIncarnation"/>.</summary>
    public string? TopicId { get; private set; }

    public long LogStart { get; private set; }

    /// <summary>The next offset after the last persisted batch (this replica's log end offset).</summary>
    public long LogEnd { get; private set; }

    /// <summary>Consumers read below it: every in-sync replica has these records.</summary>
    public long HighWatermark { get; private set; }

    /// <summary>The next offset to assign; ahead of <see cref="LogEnd"/> while appends are being written.</summary>
    public long NextOffset { get; private set; }

    /// <summary>
    /// True while appends this replica assigned offsets to are still being written: it must not fetch from a leader
    /// (or start a new epoch) at a log end its own writes will still extend, or two batches would get the same offsets.
    /// </summary>
    public bool AppendsInFlight => NextOffset > LogEnd;

    public int BatchesSinceSnapshot { get; private set; }

    public long BytesSinceSnapshot { get; private set; }

    private long NowUnixMs => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Reserves offsets for a batch of <paramref name="recordCount"/> records; its base offset.</summary>
    public long AssignOffsets(int recordCount)
    {
        var baseOffset = NextOffset;
        NextOffset += recordCount;
        return baseOffset;
    }

    /// <summary>Nothing of this replica is in flight (a follower's appends, a truncation, recovery): the next offset is the log end.</summary>
    public void SettleNextOffset() => NextOffset = LogEnd;

    /// <summary>Applies a persisted batch: appends, replication and recovery all come here.</summary>
    public void Appended(byte[] batch, long sequenceNr)
    {
        RecordBatch.TryReadHeader(batch, out var header);
        Index.Append(header.BaseOffset, header.RecordCount, sequenceNr, IndexTimestamp.For(batch, header, NowUnixMs), batch.Length);
        Tail.Add(header.BaseOffset, batch);
        Epochs.Assign(header.PartitionLeaderEpoch, header.BaseOffset);
        Producers.Record(header, header.BaseOffset);
        LogEnd = header.BaseOffset + header.RecordCount;
        BatchesSinceSnapshot++;
        BytesSinceSnapshot += batch.Length;
    }

    public bool SnapshotDue(int everyBatches, long everyBytes) => BatchesSinceSnapshot >= everyBatches || BytesSinceSnapshot >= everyBytes;

    public void SnapshotTaken()
    {
        BatchesSinceSnapshot = 0;
        BytesSinceSnapshot = 0;
    }

    /// <summary>Raises the high watermark to <paramref name="offset"/> (never lowers it); true if it moved.</summary>
    public bool AdvanceHighWatermark(long offset)
    {
        if (offset <= HighWatermark) return false;
        HighWatermark = offset;
        return true;
    }

    /// <summary>A follower's high watermark: the leader's, as far as this log reaches; true if it moved.</summary>
    public bool FollowHighWatermark(long leaderHighWatermark) => AdvanceHighWatermark(Math.Min(leaderHighWatermark, LogEnd));

    /// <summary>Where a follower whose last fetched epoch is <paramref name="lastFetchedEpoch"/> diverges from this log (KIP-101/279), or null if it does not.</summary>
    public (int Epoch, long EndOffset)? DivergenceFrom(int lastFetchedEpoch, long followerLogEnd)
    {
        if (lastFetchedEpoch < 0 || followerLogEnd <= 0) return null;
        var (epoch, end) = Epochs.EndOffsetFor(lastFetchedEpoch, LogEnd);
        if (end >= followerLogEnd && epoch >= lastFetchedEpoch) return null;
        return (Math.Max(epoch, 0), end < 0 ? LogStart : end);
    }

    /// <summary>
    /// Kafka's fetchOffsetByTimestamp over the index: the position of the first committed batch whose max timestamp
    /// reaches <paramref name="timestamp"/> (the record is inside it), or -1. For <see cref="OffsetSpec.MaxTimestamp"/>,
    /// the first committed batch holding the largest timestamp, and <paramref name="target"/> is that timestamp.
    /// </summary>
    public int FindCommittedBatch(long timestamp, out long target)
    {
        target = timestamp;
        var i = 0;
        if (timestamp == OffsetSpec.MaxTimestamp)
        {
            var largest = -1;
            for (var j = 0; j < Index.Count && Index.BaseOffset(j) < HighWatermark; j++)
                if (largest < 0 || Index.MaxTimestamp(j) > Index.MaxTimestamp(largest)) largest = j;
            if (largest < 0) return -1;
            i = largest;
            target = Index.MaxTimestamp(largest);
        }
        else
        {
            while (i < Index.Count && Index.BaseOffset(i) < HighWatermark && Index.MaxTimestamp(i) < timestamp) i++;
        }
        return i == Index.Count || Index.BaseOffset(i) >= HighWatermark ? -1 : i;
    }

    /// <summary>Drops every batch that ends after <paramref name="offset"/> (whole batches only).</summary>
    public void TruncateTo(long offset)
    {
        var drop = 0;
        while (drop < Index.Count && Index.NextOffsetAfter(Index.Count - 1 - drop) > offset) drop++;
        if (drop > 0) Index.RemoveLast(drop);
        LogEnd = Index.Count > 0 ? Index.NextOffsetAfter(Index.Count - 1) : Math.Min(LogEnd, Math.Max(LogStart, offset));
        if (LogEnd < LogStart) LogStart = LogEnd;
        Tail.TruncateFrom(LogEnd);
        Epochs.TruncateFromEnd(LogEnd);
        Producers.TruncateFrom(LogEnd);
        HighWatermark = Math.Min(HighWatermark, LogEnd);
    }

    /// <summary>Drops every batch: the log continues at <paramref name="offset"/>, which lies past all of them.</summary>
    public void StartLogAt(long offset)
    {
        Index.Clear();
        Tail.Clear();
        Epochs.Clear(); // the fetched batches bring their epochs; the old ones describe offsets this log no longer has
        Producers.Clear(); // and their producers: a producer this replica does not know may continue at any sequence
        LogStart = LogEnd = NextOffset = offset;
        HighWatermark = Math.Max(HighWatermark, offset);
    }

    /// <summary>Drops the whole batches below <paramref name="offset"/> and starts the log there; the journal sequence number of the last dropped batch, or 0.</summary>
    public long DropBefore(long offset)
    {
        var drop = 0;
        while (drop < Index.Count && Index.NextOffsetAfter(drop) <= offset) drop++;
        var deleteTo = drop > 0 ? Index.SequenceNr(drop - 1) : 0;
        if (drop > 0) Index.RemoveFirst(drop);
        LogStart = Math.Min(Math.Max(LogStart, offset), LogEnd);
        Tail.TrimBelow(Index.Count > 0 ? Index.BaseOffset(0) : LogEnd);
        return deleteTo;
    }

    /// <summary>
    /// Removes the oldest committed batches that are past retention.ms (by their max timestamp) or make the log
    /// larger than retention.bytes (-1 disables either); a batch above the high watermark may still be needed by
    /// a follower and stays. The number of batches removed, and the journal sequence number of the last of them.
    /// </summary>
    public int ApplyRetention(long retentionMs, long retentionBytes, out long deleteToSequenceNr)
    {
        var now = NowUnixMs;
        var bytes = Index.TotalBytes;
        var drop = 0;
        while (drop < Index.Count && Index.NextOffsetAfter(drop) <= HighWatermark)
        {
            var expired = retentionMs >= 0 && Index.MaxTimestamp(drop) < now - retentionMs;
            var oversize = retentionBytes >= 0 && bytes > retentionBytes;
            if (!expired && !oversize) break;
            bytes -= Index.Size(drop);
            drop++;
        }
        deleteToSequenceNr = 0;
        if (drop == 0) return 0;

        deleteToSequenceNr = Index.SequenceNr(drop - 1);
        LogStart = drop == Index.Count ? LogEnd : Index.BaseOffset(drop);
        Index.RemoveFirst(drop);
        Tail.TrimBelow(LogStart);
        return drop;
    }

    /// <summary>Forgets idempotent producers idle since before <paramref name="expiration"/>; how many.</summary>
    public int ExpireProducers(TimeSpan expiration) => Producers.ExpireOlderThan(NowUnixMs - (long)expiration.TotalMilliseconds);

    /// <summary>Starts an empty log for topic incarnation <paramref name="topicId"/> ("" or null for none).</summary>
    public void StartIncarnation(string? topicId)
    {
        TopicId = string.IsNullOrEmpty(topicId) ? null : topicId;
        Index.Clear();
        Tail.Clear();
        Epochs.Clear();
        Producers.Clear();
        LogStart = LogEnd = NextOffset = HighWatermark = 0;
    }

    /// <summary>Recovery replayed everything: the high watermark lies within the log and nothing is in flight.</summary>
    public void RecoveryCompleted()
    {
        HighWatermark = Math.Min(Math.Max(HighWatermark, LogStart), LogEnd);
        NextOffset = LogEnd; // a replayed truncation may have left it behind
    }

    public PartitionSnapshot ToSnapshot()
    {
        var n = Index.Count;
        var baseOffsets = new long[n];
        var counts = new int[n];
        var seqs = new long[n];
        var timestamps = new long[n];
        var sizes = new int[n];
        for (var i = 0; i < n; i++)
        {
            baseOffsets[i] = Index.BaseOffset(i);
            counts[i] = Index.RecordCount(i);
            seqs[i] = Index.SequenceNr(i);
            timestamps[i] = Index.MaxTimestamp(i);
            sizes[i] = Index.Size(i);
        }
        var epochs = new int[Epochs.Count];
        var starts = new long[Epochs.Count];
        for (var i = 0; i < Epochs.Count; i++) (epochs[i], starts[i]) = Epochs[i];
        return new PartitionSnapshot(TopicId ?? "", LogStart, LogEnd, baseOffsets, counts, seqs, timestamps, sizes)
        {
            HighWatermark = HighWatermark,
            Epochs = epochs,
            EpochStartOffsets = starts,
            Producers = Producers.ToSnapshot(LogEnd),
        };
    }

    /// <summary>
    /// Restores a snapshot. A batch indexed with a client's unchecked max timestamp (written before batches were
    /// validated) is indexed at now, which holds it from time-based retention, and its base offset is added to
    /// <paramref name="suspectTimestamps"/> for the host to read back and correct.
    /// </summary>
    public void Restore(PartitionSnapshot snapshot, Queue<long> suspectTimestamps)
    {
        StartIncarnation(snapshot.TopicId);
        var now = NowUnixMs;
        for (var i = 0; i < snapshot.BaseOffsets.Length; i++)
        {
            var timestamp = snapshot.MaxTimestamps[i];
            if (IndexTimestamp.IsSuspect(timestamp))
            {
                timestamp = now;
                suspectTimestamps.Enqueue(snapshot.BaseOffsets[i]);
            }
            Index.Append(snapshot.BaseOffsets[i], snapshot.RecordCounts[i], snapshot.SequenceNrs[i], timestamp, snapshot.Sizes[i]);
        }
        for (var i = 0; i < snapshot.Epochs.Length; i++) Epochs.Assign(snapshot.Epochs[i], snapshot.EpochStartOffsets[i]);
        Producers.Restore(snapshot.Producers);
        LogStart = snapshot.LogStartOffset;
        LogEnd = NextOffset = snapshot.LogEndOffset;
        HighWatermark = snapshot.HighWatermark;
    }
}
