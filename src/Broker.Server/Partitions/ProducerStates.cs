using Broker.Protocol.Records;

namespace Broker.Server.Partitions;

/// <summary>What the sequence check says about a batch from an idempotent producer.</summary>
internal enum SequenceCheck
{
    /// <summary>Not from an idempotent producer, or the next batch in its sequence: append it.</summary>
    Append,
    /// <summary>The same batch again (a retry after a lost answer): answer with the offsets it got the first time, store nothing.</summary>
    Duplicate,
    /// <summary>A gap or a rewind in the producer's sequence: refuse (OUT_OF_ORDER_SEQUENCE_NUMBER).</summary>
    OutOfOrder,
    /// <summary>An epoch older than the producer's newest here: a zombie of a restarted producer; refuse (INVALID_PRODUCER_EPOCH).</summary>
    StaleEpoch,
    /// <summary>A producer id without a base sequence: a malformed batch.</summary>
    NoSequence,
}

/// <summary>One batch an idempotent producer wrote: its sequence range and the offsets it got.</summary>
internal readonly record struct ProducerBatch(int FirstSeq, int LastSeq, long BaseOffset, long LastOffset);

/// <summary>One producer id's state in a partition, as a snapshot carries it.</summary>
internal sealed record ProducerState(long ProducerId, short Epoch, long LastTimestamp, ProducerBatch[] Batches);

/// <summary>
/// Idempotent producers (KIP-98) in one partition replica: per producer id, its newest epoch and the last
/// five batches it wrote (Kafka's bound on in-flight requests for an idempotent producer), so a retried batch
/// is recognised and acknowledged with its first offsets instead of being stored twice. Every replica builds
/// this from its own log (the leader when it assigns offsets, followers and recovery when they apply a batch),
/// so a new leader after a failover knows what the old one accepted. Kafka's ProducerStateManager, without
/// transactions.
/// </summary>
internal sealed class ProducerStates
{
    /// <summary>Batches remembered per producer: librdkafka and the Java client keep at most 5 in flight with idempotence.</summary>
    public const int BatchesKept = 5;

    private readonly Dictionary<long, Entry> _producers = new();

    public int Count => _producers.Count;

    /// <summary>
    /// Checks a batch before it is given offsets. For <see cref="SequenceCheck.Duplicate"/>, <paramref name="duplicate"/>
    /// is the batch as first written. As Kafka does, a producer this partition does not know (new, or expired) may
    /// start at any sequence; an epoch bump must start at sequence 0.
    /// </summary>
    public SequenceCheck Check(in RecordBatchHeader batch, out ProducerBatch duplicate)
    {
        duplicate = default;
        if (batch.ProducerId < 0) return SequenceCheck.Append;
        if (batch.BaseSequence < 0) return SequenceCheck.NoSequence;
        if (!_producers.TryGetValue(batch.ProducerId, out var entry)) return SequenceCheck.Append;
        if (batch.ProducerEpoch < entry.Epoch) return SequenceCheck.StaleEpoch;
        if (batch.ProducerEpoch > entry.Epoch) return batch.BaseSequence == 0 ? SequenceCheck.Append : SequenceCheck.OutOfOrder;

        var lastSeq = LastSequence(batch.BaseSequence, batch.RecordCount);
        foreach (var written in entry.Batches)
        {
            if (written.FirstSeq == batch.BaseSequence && written.LastSeq == lastSeq)
            {
                duplicate = written;
                return SequenceCheck.Duplicate;
            }
        }
        if (entry.Batches.Count == 0) return SequenceCheck.Append;
        return InSequence(entry.Batches[^1].LastSeq, batch.BaseSequence) ? SequenceCheck.Append : SequenceCheck.OutOfOrder;
    }

    /// <summary>
    /// Records a batch with the offsets it got. Called when the leader assigns them and again when any replica
    /// applies the persisted batch; the second call for the same batch changes nothing.
    /// </summary>
    public void Record(in RecordBatchHeader batch, long baseOffset)
    {
        if (batch.ProducerId < 0 || batch.BaseSequence < 0) return;
        var written = new ProducerBatch(batch.BaseSequence, LastSequence(batch.BaseSequence, batch.RecordCount), baseOffset, baseOffset + batch.RecordCount - 1);
        if (!_producers.TryGetValue(batch.ProducerId, out var entry))
        {
            _producers[batch.ProducerId] = entry = new Entry(batch.ProducerEpoch);
        }
        else if (batch.ProducerEpoch > entry.Epoch)
        {
            entry.Epoch = batch.ProducerEpoch;
            entry.Batches.Clear();
        }
        else if (batch.ProducerEpoch < entry.Epoch)
        {
            return; // an older epoch's batch the leader took before the bump: it says nothing about the new epoch
        }
        if (entry.Batches.Count > 0 && entry.Batches[^1].BaseOffset >= baseOffset) return; // already recorded
        entry.Batches.Add(written);
        if (entry.Batches.Count > BatchesKept) entry.Batches.RemoveAt(0);
        entry.LastTimestamp = Math.Max(entry.LastTimestamp, batch.MaxTimestamp);
    }

    /// <summary>The log lost every offset from <paramref name="offset"/> on: forget the batches that lay there.</summary>
    public void TruncateFrom(long offset)
    {
        List<long>? empty = null;
        foreach (var (id, entry) in _producers)
        {
            entry.Batches.RemoveAll(b => b.LastOffset >= offset);
            if (entry.Batches.Count == 0) (empty ??= new()).Add(id);
        }
        if (empty is null) return;
        foreach (var id in empty) _producers.Remove(id);
    }

    /// <summary>Forgets producers whose newest batch is older than <paramref name="timestampMs"/> (producer.id.expiration.ms); returns how many.</summary>
    public int ExpireOlderThan(long timestampMs)
    {
        List<long>? expired = null;
        foreach (var (id, entry) in _producers)
            if (entry.LastTimestamp < timestampMs) (expired ??= new()).Add(id);
        if (expired is null) return 0;
        foreach (var id in expired) _producers.Remove(id);
        return expired.Count;
    }

    public void Clear() => _producers.Clear();

    /// <summary>The state for a snapshot of a log that ends at <paramref name="logEnd"/>: batches still being written are left out.</summary>
    public ProducerState[] ToSnapshot(long logEnd)
    {
        var states = new List<ProducerState>(_producers.Count);
        foreach (var (id, entry) in _producers)
        {
            var batches = entry.Batches.FindAll(b => b.LastOffset < logEnd);
            if (batches.Count > 0) states.Add(new ProducerState(id, entry.Epoch, entry.LastTimestamp, batches.ToArray()));
        }
        return states.ToArray();
    }

    public void Restore(IEnumerable<ProducerState> states)
    {
        _producers.Clear();
        foreach (var state in states)
        {
            var entry = new Entry(state.Epoch) { LastTimestamp = state.LastTimestamp };
            entry.Batches.AddRange(state.Batches);
            _producers[state.ProducerId] = entry;
        }
    }

    /// <summary>The sequence of a batch's last record; sequences wrap from int.MaxValue to 0, as in Kafka.</summary>
    public static int LastSequence(int firstSeq, int recordCount)
    {
        var last = (long)firstSeq + recordCount - 1;
        return last > int.MaxValue ? (int)(last - int.MaxValue - 1) : (int)last;
    }

    private static bool InSequence(int lastSeq, int nextSeq) => (long)nextSeq == lastSeq + 1L || (nextSeq == 0 && lastSeq == int.MaxValue);

    private sealed class Entry(short epoch)
    {
        public short Epoch { get; set; } = epoch;
        public long LastTimestamp { get; set; } = long.MinValue;
        public List<ProducerBatch> Batches { get; } = new(BatchesKept + 1);
    }
}
