using Broker.Protocol;
using Broker.Protocol.Records;

namespace Broker.Server.Partitions;

/// <summary>
/// What a following replica does with its leader's answer (Kafka's ReplicaFetcherThread, without the thread):
/// which fetch is current, the newest leader epoch seen, where to fetch next (its log end, with the epoch of its
/// last batch for the divergence check), and, from a <see cref="ReplicaFetchResult"/>, whether to retry, truncate a
/// divergent suffix, restart the log where the leader's starts, or append the batches contiguous with its log.
/// The host persists what a <see cref="Step"/> names, applies it to the <see cref="PartitionLog"/>, and fetches again.
/// </summary>
internal sealed class FollowerState
{
    /// <summary>What to do with a fetch answer.</summary>
    public abstract record Step
    {
        private Step() { }

        /// <summary>The answer to a fetch given up on: nothing.</summary>
        public sealed record Ignore : Step;

        /// <summary>Refused, or (<paramref name="FromStaleLeader"/>) answered by an older leader than one already seen: fetch again after the back-off.</summary>
        public sealed record RetryLater(string Reason, bool FromStaleLeader) : Step;

        /// <summary>The log diverged from the leader's: truncate to <paramref name="Offset"/> (journaled), then fetch again.</summary>
        public sealed record Truncate(long Offset, int DivergingEpoch) : Step;

        /// <summary>The leader's log starts past this log's end (retention removed what comes next): start the log at <paramref name="Offset"/> (journaled).</summary>
        public sealed record StartAt(long Offset) : Step;

        /// <summary>
        /// Persist <paramref name="Batches"/> (possibly none), then follow the leader's high watermark and its log start
        /// (<see cref="FollowedLogStart"/>), and fetch again.
        /// </summary>
        public sealed record Append(List<byte[]> Batches, long LeaderHighWatermark, long LeaderLogStart) : Step;

        /// <summary>Nothing to change: fetch again at once.</summary>
        public sealed record FetchAgain : Step;
    }

    private static readonly Step.Ignore Ignored = new();
    private static readonly Step.FetchAgain Again = new();

    /// <summary>The id of the current fetch; answers to older ones are ignored.</summary>
    public long FetchId { get; private set; }

    /// <summary>The newest leader epoch a fetch answer came from; older leaders' answers are refused.</summary>
    public int KnownLeaderEpoch { get; private set; } = -1;

    /// <summary>The next fetch: from this log's end, naming the epoch of its last batch.</summary>
    public ReplicaFetch NextFetch(string topic, int partition, int nodeId, PartitionLog log, int maxBytes, int maxWaitMs) =>
        new(topic, partition, log.TopicId!, nodeId, ++FetchId, log.LogEnd, log.Epochs.LatestEpoch, maxBytes, maxWaitMs);

    public bool IsCurrent(long fetchId) => fetchId == FetchId;

    /// <summary>
    /// Where this replica's log should start after an append: the leader's log start (moved by DeleteRecords,
    /// retention or the group checkpoints) up to this replica's high watermark, as Kafka's follower does
    /// (<c>maybeIncrementLogStartOffset</c>), so a replica that becomes leader serves, and reads its groups back, from
    /// where the old leader did; null when its log start stays.
    /// </summary>
    public static long? FollowedLogStart(long leaderLogStart, PartitionLog log)
    {
        var start = Math.Min(leaderLogStart, log.HighWatermark);
        return start > log.LogStart ? start : null;
    }

    public Step OnFetched(ReplicaFetchResult result, PartitionLog log)
    {
        if (result.FetchId != FetchId) return Ignored;
        if (result.Error != ErrorCode.None) return new Step.RetryLater($"follower fetch refused ({result.Error}: {result.ErrorMessage})", false);
        if (result.LeaderEpoch < KnownLeaderEpoch)
            return new Step.RetryLater($"ignoring a fetch answer from a stale leader (epoch {result.LeaderEpoch} < {KnownLeaderEpoch})", true);
        KnownLeaderEpoch = result.LeaderEpoch;

        if (result.DivergingEpoch >= 0)
        {
            // Our log and the leader's agree up to where that epoch ends on both sides.
            var (_, localEnd) = log.Epochs.EndOffsetFor(result.DivergingEpoch, log.LogEnd);
            var cut = Math.Min(result.DivergingEndOffset, localEnd < 0 ? log.LogStart : localEnd);
            return cut < log.LogEnd ? new Step.Truncate(cut, result.DivergingEpoch) : Again;
        }

        if (result.LogStartOffset > log.LogEnd) return new Step.StartAt(result.LogStartOffset);

        var batches = new List<byte[]>();
        var position = 0;
        var expected = log.LogEnd;
        while (RecordBatch.TryReadNext(result.Records, ref position, out var batch, out var header))
        {
            if (header.BaseOffset != expected) break; // not contiguous with our log: fetch again from our end
            // Pinned, as a leader's appends are: the journal writes it and the tail cache keeps it for seconds.
            var bytes = GC.AllocateUninitializedArray<byte>(batch.Length, pinned: true);
            batch.Span.CopyTo(bytes);
            batches.Add(bytes);
            expected = header.BaseOffset + header.RecordCount;
        }
        return new Step.Append(batches, result.HighWatermark, result.LogStartOffset);
    }
}
