// The producer's per-partition batches, as in Kafka's Java client: callers append records, the Sender drains ready batches.
using System.Collections.Concurrent;
using Broker.Protocol;
using Broker.Protocol.Records;
using Broker.Protocol.Records.Compression;

namespace Broker.Client.Producing;

/// <summary>
/// Holds each partition's open batch, the queue of closed (ready) batches, the pools of batches and builders,
/// the buffer-memory budget and pending flushes. Chosen over an actor because the caller's thread then writes
/// each record straight into its partition's RecordBatchBuilder: one uncontended lock and one copy per record,
/// no message or Task per record inside the library.
/// <list type="bullet">
/// <item>Callers append under <see cref="Sync"/> to the partition's open batch. A batch closes when another
/// record of the same size would not fit BatchSize, and joins the ready queue (FIFO, so one partition's batches
/// stay in order).</item>
/// <item>The <see cref="Sender"/> waits on the same monitor (<see cref="SenderSleepsUntil"/> says until when, so an
/// append wakes it only when a batch becomes due sooner) and <see cref="Drain"/>s ready batches, oldest first,
/// then open batches whose linger passed or that a flush waits for.</item>
/// <item>Once a batch's deliveries are reported, <see cref="Release"/> gives back its buffer memory, counts it for
/// flushes and pools it.</item>
/// </list>
/// </summary>
internal sealed class RecordAccumulator
{
    /// <summary><see cref="SenderSleepsUntil"/> when the sender is awake (no pulse needed).</summary>
    public const long SenderAwake = 0;
    /// <summary><see cref="SenderSleepsUntil"/> when the sender has nothing to do (wake it for anything).</summary>
    public const long SenderIdle = long.MaxValue;
    /// <summary><see cref="SenderSleepsUntil"/> when the sender waits for a request slot (only a reply wakes it).</summary>
    public const long SenderWaitingForSlot = long.MinValue;

    private const int MaxPooledBatches = 256;
    // A builder starts this much above BatchSize, so a batch that is nearly full never has to grow.
    private const int BuilderSlack = 512;
    /// <summary>Bytes of a produce request besides its batches.</summary>
    public const int RequestOverhead = 16;

    private readonly int _batchSize;
    private readonly int _lingerMs;
    private readonly long _bufferMemory;
    private readonly TimeSpan _requestTimeout;
    private readonly long _deliveryTimeoutMs;
    private readonly CompressionCodec _compression;
    private readonly ConcurrentDictionary<string, TopicState> _topics = new(StringComparer.Ordinal);
    private readonly List<ProducerBatch> _open = [];
    private readonly Queue<ProducerBatch> _ready = new();
    // Sent batches waiting to be sent again (idempotent producers), in creation order: a partition's oldest goes first.
    private readonly List<ProducerBatch> _retry = [];
    private readonly Stack<ProducerBatch> _pool = new();
    private readonly Stack<RecordBatchBuilder> _builders = new();
    private readonly List<FlushWaiter> _flushWaiters = [];

    private long _nextSequence;
    private long _flushBefore;
    private long _bufferedBytes;
    private int _unfinished;
    private int _memoryWaiters;

    public RecordAccumulator(ProducerConfig config)
    {
        _batchSize = config.BatchSize;
        _lingerMs = config.LingerMs;
        _bufferMemory = config.BufferMemory;
        _requestTimeout = config.RequestTimeout;
        _deliveryTimeoutMs = (long)config.DeliveryTimeout.TotalMilliseconds;
        _compression = config.CompressionType;
    }

    /// <summary>The one monitor of the producer: guards the batches here and the Sender's in-flight requests.</summary>
    public object Sync { get; } = new();

    /// <summary>When the sender will look at the batches again (under <see cref="Sync"/>); see the Sender* constants.</summary>
    public long SenderSleepsUntil { get; set; } = SenderAwake;

    /// <summary>No more records; the sender stops once it has drained what is left (under <see cref="Sync"/>).</summary>
    public bool IsClosed { get; private set; }

    /// <summary>Largest request a single record may need: its estimate plus a batch header and request fields.</summary>
    public static int RecordRequestBytes(int estimate, int topicNameBytes) =>
        estimate + RecordBatch.HeaderSize + topicNameBytes + 2 * RequestOverhead;

    public TopicState? FindTopic(string name) => _topics.TryGetValue(name, out var topic) ? topic : null;

    public TopicState AddTopic(string name, int partitionCount) =>
        _topics.GetOrAdd(name, static (n, count) => new TopicState(n, count), partitionCount);

    /// <summary>Adds one record to its partition's open batch; <paramref name="partition"/> -1 means the sticky partition.</summary>
    public void Append(TopicState topic, int partition, Message message, long timestampMs, int estimate, Delivery delivery, CancellationToken cancellationToken)
    {
        lock (Sync)
        {
            ObjectDisposedException.ThrowIf(IsClosed, typeof(Producer));
            // A callback that produces must not wait for space only its own return can free.
            if (_bufferedBytes > 0 && _bufferedBytes + estimate > _bufferMemory && !CallbackDelivery.InCallback)
                WaitForBufferSpace(estimate, cancellationToken);
            if (partition < 0) partition = StickyPartition(topic);

            var batch = topic.Open[partition];
            if (batch is not null && batch.Builder!.SizeInBytes + estimate > _batchSize)
            {
                CloseOpenBatch(batch);
                batch = null;
            }
            batch ??= OpenBatch(topic, partition);
            var builder = batch.Builder!;
            builder.Append(timestampMs, message.Key, message.Value, message.Headers);
            batch.Add(delivery, estimate);
            _bufferedBytes += estimate;
            // Another record of this size would not fit: send it now rather than after the linger.
            if (builder.SizeInBytes + estimate > _batchSize) CloseOpenBatch(batch);
        }
    }

    /// <summary>Sends every batch created so far at once; completes when all of them are reported.</summary>
    public Task FlushAsync()
    {
        lock (Sync)
        {
            if (_unfinished == 0) return Task.CompletedTask;
            var waiter = new FlushWaiter(_nextSequence, _unfinished);
            _flushWaiters.Add(waiter);
            _flushBefore = _nextSequence;
            SenderSleepsUntil = SenderAwake;
            Monitor.PulseAll(Sync);
            return waiter.Task;
        }
    }

    /// <summary>Batches accepted and not yet reported (for diagnostics and tests).</summary>
    public int PendingBatches
    {
        get { lock (Sync) return _unfinished; }
    }

    // ---- appending (under Sync) ----

    private void WaitForBufferSpace(int estimate, CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)_requestTimeout.TotalMilliseconds;
        _memoryWaiters++;
        try
        {
            while (_bufferedBytes > 0 && _bufferedBytes + estimate > _bufferMemory)
            {
                ObjectDisposedException.ThrowIf(IsClosed, typeof(Producer));
                cancellationToken.ThrowIfCancellationRequested();
                var remaining = deadline - Environment.TickCount64;
                if (remaining <= 0)
                {
                    throw new BrokerException(ErrorCode.RequestTimedOut,
                        $"the producer's buffer (BufferMemory={_bufferMemory} bytes) stayed full for {_requestTimeout.TotalSeconds:0.#}s: the broker is not keeping up or is unreachable");
                }
                // Short slices so cancellation is noticed; replies pulse the monitor when they free space.
                Monitor.Wait(Sync, (int)Math.Min(remaining, 100));
            }
        }
        finally
        {
            _memoryWaiters--;
        }
    }

    private static int StickyPartition(TopicState topic)
    {
        if (topic.StickyPartition >= 0) return topic.StickyPartition;
        var count = topic.PartitionCount;
        var previous = topic.PreviousStickyPartition;
        int next;
        if (count > 1 && previous >= 0)
        {
            // Move on to a different partition, as Kafka's sticky partitioner does.
            next = Random.Shared.Next(count - 1);
            if (next >= previous) next++;
        }
        else
        {
            next = Random.Shared.Next(count);
        }
        topic.StickyPartition = next;
        return next;
    }

    private ProducerBatch OpenBatch(TopicState topic, int partition)
    {
        var batch = _pool.Count > 0 ? _pool.Pop() : new ProducerBatch();
        var builder = _builders.Count > 0 ? _builders.Pop() : new RecordBatchBuilder(_batchSize + BuilderSlack, _compression);
        var now = Environment.TickCount64;
        batch.Start(topic, partition, _nextSequence++, now, builder, _deliveryTimeoutMs);
        topic.Open[partition] = batch;
        batch.OpenIndex = _open.Count;
        _open.Add(batch);
        _unfinished++;
        WakeSender(now + _lingerMs);
        return batch;
    }

    private void CloseOpenBatch(ProducerBatch batch)
    {
        RemoveOpen(batch);
        batch.Close();
        _ready.Enqueue(batch);
        WakeSender(Environment.TickCount64);
    }

    private void RemoveOpen(ProducerBatch batch)
    {
        var index = batch.OpenIndex;
        var last = _open.Count - 1;
        if (index != last)
        {
            var moved = _open[last];
            _open[index] = moved;
            moved.OpenIndex = index;
        }
        _open.RemoveAt(last);
        batch.OpenIndex = -1;
        var topic = batch.Topic;
        if (ReferenceEquals(topic.Open[batch.Partition], batch)) topic.Open[batch.Partition] = null;
        if (topic.StickyPartition == batch.Partition)
        {
            topic.PreviousStickyPartition = batch.Partition;
            topic.StickyPartition = -1;
        }
    }

    /// <summary>Pulses the sender if it sleeps past <paramref name="due"/>; cheap no-op when it is awake or waiting for a slot.</summary>
    private void WakeSender(long due)
    {
        if (due >= SenderSleepsUntil) return;
        SenderSleepsUntil = SenderAwake;
        Monitor.PulseAll(Sync);
    }

    // ---- draining (the sender, under Sync) ----

    /// <summary>
    /// Takes ready batches oldest first, then open batches whose linger passed (or that a flush waits for), up to
    /// <paramref name="maxRequestSize"/>. False if none is due; then <paramref name="wakeAt"/> says when one will be.
    /// </summary>
    public bool Drain(long now, int maxRequestSize, List<ProducerBatch> taken, out long wakeAt)
    {
        wakeAt = SenderIdle;
        var bytes = RequestOverhead;
        if (_retry.Count > 0)
        {
            if (!DrainRetries(now, maxRequestSize, taken, ref bytes, ref wakeAt)) return true;
            if (_retry.Count > 0) return DrainUnmuted(now, maxRequestSize, taken, bytes, ref wakeAt);
        }
        while (_ready.Count > 0)
        {
            var next = _ready.Peek();
            if (taken.Count > 0 && bytes + next.RequestBytes > maxRequestSize) return true;
            bytes += next.RequestBytes;
            taken.Add(_ready.Dequeue());
        }
        // Only reached with the ready queue empty, so an open batch never overtakes its partition's closed ones.
        return DrainOpen(now, maxRequestSize, taken, bytes, skipMuted: false, ref wakeAt);
    }

    /// <summary>
    /// Closes and takes open batches whose linger passed (or that a flush waits for), up to the request size; with
    /// <paramref name="skipMuted"/>, not those of partitions with a retry waiting (their ready batches wait too).
    /// </summary>
    private bool DrainOpen(long now, int maxRequestSize, List<ProducerBatch> taken, int bytes, bool skipMuted, ref long wakeAt)
    {
        for (var i = _open.Count - 1; i >= 0; i--)
        {
            var batch = _open[i];
            if (skipMuted && IsMuted(batch)) continue;
            var due = batch.CreatedAt + _lingerMs;
            if (due > now && batch.Sequence >= _flushBefore && !IsClosed)
            {
                if (due < wakeAt) wakeAt = due;
                continue;
            }
            if (taken.Count > 0 && bytes + batch.RequestBytes > maxRequestSize) break;
            bytes += batch.RequestBytes;
            RemoveOpen(batch);
            batch.Close();
            taken.Add(batch);
        }
        return taken.Count > 0;
    }

    /// <summary>
    /// Takes retries that are due, oldest first, and for each partition only while its older retries went too, so
    /// a partition's batches reach it in sequence order. False when the request is full.
    /// </summary>
    private bool DrainRetries(long now, int maxRequestSize, List<ProducerBatch> taken, ref int bytes, ref long wakeAt)
    {
        List<(TopicState, int)>? waiting = null;
        for (var i = 0; i < _retry.Count; i++)
        {
            var batch = _retry[i];
            if (waiting is not null && waiting.Contains((batch.Topic, batch.Partition))) continue;
            if (batch.RetryAt > now)
            {
                (waiting ??= []).Add((batch.Topic, batch.Partition));
                if (batch.RetryAt < wakeAt) wakeAt = batch.RetryAt;
                continue;
            }
            if (taken.Count > 0 && bytes + batch.RequestBytes > maxRequestSize) return false;
            bytes += batch.RequestBytes;
            taken.Add(batch);
            _retry.RemoveAt(i--);
        }
        return true;
    }

    /// <summary>
    /// Ready and due open batches of the partitions with no retry waiting (a partition with one is muted until it
    /// has gone, as in Kafka: a newer batch must not reach the partition before an older one).
    /// </summary>
    private bool DrainUnmuted(long now, int maxRequestSize, List<ProducerBatch> taken, int bytes, ref long wakeAt)
    {
        var count = _ready.Count;
        var full = false;
        for (var i = 0; i < count; i++)
        {
            var batch = _ready.Dequeue();
            if (!full && !IsMuted(batch))
            {
                if (taken.Count == 0 || bytes + batch.RequestBytes <= maxRequestSize)
                {
                    bytes += batch.RequestBytes;
                    taken.Add(batch);
                    continue;
                }
                full = true;
            }
            _ready.Enqueue(batch); // muted or no room: stays, in its order
        }
        // Not full, so every ready batch left belongs to a muted partition: no open batch overtakes a closed one.
        return full || DrainOpen(now, maxRequestSize, taken, bytes, skipMuted: true, ref wakeAt);
    }

    private bool IsMuted(ProducerBatch batch)
    {
        foreach (var retry in _retry)
            if (batch.SamePartitionAs(retry)) return true;
        return false;
    }

    /// <summary>A sent batch failed with a retriable error: send it again, unchanged, after <paramref name="retryAt"/> (under Sync).</summary>
    public void Requeue(ProducerBatch batch, long retryAt)
    {
        batch.RetryAt = retryAt;
        batch.Retries++;
        var i = _retry.Count;
        while (i > 0 && _retry[i - 1].Sequence > batch.Sequence) i--;
        _retry.Insert(i, batch);
        WakeSender(retryAt);
    }

    /// <summary>Whether a batch of this partition older than <paramref name="batch"/> waits to be sent again (under Sync).</summary>
    public bool RetriesBefore(ProducerBatch batch)
    {
        foreach (var retry in _retry)
            if (batch.IsOlderOfSamePartition(retry)) return true;
        return false;
    }

    /// <summary>A new producer id: every partition's sequence starts at 0 again (under Sync).</summary>
    public void ResetSequences()
    {
        foreach (var topic in _topics.Values) Array.Clear(topic.NextSequence);
    }

    /// <summary>The batches' bytes are in a request now: their builders are free for new records at once.</summary>
    public void ReturnBuilders(ProducerBatch[] batches)
    {
        lock (Sync)
        {
            foreach (var batch in batches) ReturnBuilder(batch);
        }
    }

    /// <summary>
    /// After a failure in a partition: takes its batches still queued (ready, then open), to be failed with the
    /// same error and never sent. Forgets the topic's metadata if the topic or partition is gone.
    /// </summary>
    public List<ProducerBatch>? TakeQueued(TopicState topic, int partition, ErrorCode error)
    {
        if (error is ErrorCode.UnknownTopic or ErrorCode.UnknownPartition)
            _topics.TryRemove(new KeyValuePair<string, TopicState>(topic.Name, topic));
        List<ProducerBatch>? queued = null;
        var count = _ready.Count;
        for (var i = 0; i < count; i++)
        {
            var batch = _ready.Dequeue();
            if (ReferenceEquals(batch.Topic, topic) && batch.Partition == partition) (queued ??= []).Add(batch);
            else _ready.Enqueue(batch);
        }
        if (topic.Open[partition] is { } open)
        {
            RemoveOpen(open);
            (queued ??= []).Add(open);
        }
        return queued;
    }

    /// <summary>The batch is reported: release its buffer space, count it for flushes, pool it (under Sync).</summary>
    public void Release(ProducerBatch batch)
    {
        _bufferedBytes -= batch.BufferedBytes;
        _unfinished--;
        for (var i = _flushWaiters.Count - 1; i >= 0; i--)
        {
            var waiter = _flushWaiters[i];
            if (batch.Sequence < waiter.Before && --waiter.Pending == 0)
            {
                waiter.Complete();
                _flushWaiters.RemoveAt(i);
            }
        }
        ReturnBuilder(batch); // still lent if the batch failed before it was sent
        batch.Clear();
        if (_pool.Count < MaxPooledBatches) _pool.Push(batch);
    }

    /// <summary>Wakes appenders waiting for buffer space and a sender waiting for a slot or a deadline (under Sync).</summary>
    public void WakeWaiters()
    {
        if (_memoryWaiters > 0 || SenderSleepsUntil != SenderAwake) Monitor.PulseAll(Sync);
    }

    /// <summary>Takes the batch's builder back into the pool (under Sync); a no-op if it was already returned.</summary>
    private void ReturnBuilder(ProducerBatch batch)
    {
        var builder = batch.TakeBuilder();
        // A builder that grew for one huge record would pin that memory in the pool.
        if (builder is not null && _builders.Count < MaxPooledBatches && builder.Capacity <= 2 * (_batchSize + BuilderSlack))
            _builders.Push(builder);
    }

    /// <summary>Refuses further records and takes every batch not yet sent (under Sync).</summary>
    public void Close(List<ProducerBatch> unsent)
    {
        IsClosed = true;
        unsent.AddRange(_retry);
        _retry.Clear();
        while (_ready.Count > 0) unsent.Add(_ready.Dequeue());
        while (_open.Count > 0)
        {
            var open = _open[^1];
            RemoveOpen(open);
            unsent.Add(open);
        }
        Monitor.PulseAll(Sync);
    }
}
