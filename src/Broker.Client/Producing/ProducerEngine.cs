// The producer's machinery: per-partition accumulators under one lock, a dedicated sender thread, and
// delivery reports in request order.
using System.Collections.Concurrent;
using Broker.Client.Connection;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;

namespace Broker.Client.Producing;

/// <summary>
/// A lock-based accumulator with a background sender thread. Chosen over an actor because the caller's
/// thread then writes each record straight into its partition's RecordBatchBuilder: one uncontended lock
/// and one copy per record, no message or Task per record inside the library.
/// <list type="bullet">
/// <item>Callers append under <c>_sync</c> to the partition's open batch. A batch closes when another record
/// of the same size would not fit BatchSize, and joins the ready queue (FIFO, so one partition's batches stay
/// in order).</item>
/// <item>The sender thread waits on the same monitor until a batch is ready (closed, open for LingerMs, or
/// flushed) and fewer than MaxInFlight requests are outstanding, then puts ready batches, oldest first, into
/// one ProduceRequest up to MaxRequestSize. Only this thread sends, so requests leave in order over one
/// Akka.Remote association and the node appends each partition's batches in that order.</item>
/// <item>Replies arrive on thread-pool threads and are reported strictly in request order (a reply that came
/// early waits for the requests before it), so each partition's deliveries are reported in order.</item>
/// <item>When a batch fails, the batches of that partition still queued behind it are failed with the same
/// error (never sent), after the in-flight requests that carry its earlier batches.</item>
/// </list>
/// </summary>
internal sealed class ProducerEngine
{
    private const int MaxPooledBatches = 256;
    // A builder starts this much above BatchSize, so a batch that is nearly full never has to grow.
    private const int BuilderSlack = 512;
    private const int RequestOverhead = 16;
    // Values of _senderWakeAt besides a deadline: awake (no pulse needed), idle (wake for anything),
    // waiting for a request slot (only a reply wakes it).
    private const long Awake = 0;
    private const long Idle = long.MaxValue;
    private const long WaitingForSlot = long.MinValue;
    private static readonly object NoAck = new();
    private static readonly Task<object> SentWithoutAck = Task.FromResult(NoAck);

    private readonly IBrokerTransport _transport;
    private readonly Acks _acks;
    private readonly int _batchSize;
    private readonly int _lingerMs;
    private readonly int _maxInFlight;
    private readonly int _maxRequestSize;
    private readonly long _bufferMemory;
    private readonly TimeSpan _requestTimeout;
    private readonly int _serverTimeoutMs;

    private readonly object _sync = new();
    private readonly ConcurrentDictionary<string, TopicState> _topics = new(StringComparer.Ordinal);
    private readonly List<ProducerBatch> _open = [];
    private readonly Queue<ProducerBatch> _ready = new();
    private readonly Queue<InFlightRequest> _inFlight = new();
    private readonly Stack<ProducerBatch> _pool = new();
    private readonly Stack<RecordBatchBuilder> _builders = new();
    private readonly List<FlushWaiter> _flushWaiters = [];
    private readonly Thread _sender;

    private long _nextSequence;
    private long _flushBefore;
    private long _bufferedBytes;
    private int _unfinished;
    private int _inFlightCount;
    private int _memoryWaiters;
    private long _senderWakeAt = Awake;
    private bool _reporting;
    private bool _closed;

    public ProducerEngine(ProducerConfig config, IBrokerTransport transport)
    {
        _transport = transport;
        _acks = config.Acks;
        _batchSize = config.BatchSize;
        _lingerMs = config.LingerMs;
        _maxInFlight = config.MaxInFlight;
        _maxRequestSize = config.MaxRequestSize;
        _bufferMemory = config.BufferMemory;
        _requestTimeout = config.RequestTimeout;
        // The node gives up on an append a little before we give up on the request, so a slow partition
        // comes back as a typed RequestTimedOut for that partition instead of an Ask timeout for all of them.
        var ms = config.RequestTimeout.TotalMilliseconds;
        _serverTimeoutMs = (int)Math.Clamp(ms - Math.Min(1000, ms / 2), 1, int.MaxValue);
        _sender = new Thread(SendLoop) { IsBackground = true, Name = "broker-producer-sender" };
        _sender.Start();
    }

    /// <summary>Largest request a single record may need: its estimate plus a batch header and request fields.</summary>
    public static int RecordRequestBytes(int estimate, int topicNameBytes) =>
        estimate + Broker.Protocol.Records.RecordBatch.HeaderSize + topicNameBytes + 2 * RequestOverhead;

    public TopicState? FindTopic(string name) => _topics.TryGetValue(name, out var topic) ? topic : null;

    public TopicState AddTopic(string name, int partitionCount) =>
        _topics.GetOrAdd(name, static (n, count) => new TopicState(n, count), partitionCount);

    /// <summary>Drops cached metadata after UnknownTopic/UnknownPartition, so the next record looks the topic up again.</summary>
    private void ForgetTopic(TopicState topic) => _topics.TryRemove(new KeyValuePair<string, TopicState>(topic.Name, topic));

    /// <summary>Adds one record to its partition's open batch; <paramref name="partition"/> -1 means the sticky partition.</summary>
    public void Append(TopicState topic, int partition, Message message, long timestampMs, int estimate, object delivery, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_closed, typeof(Producer));
            // A callback that produces must not wait for space only its own return can free.
            if (_bufferedBytes > 0 && _bufferedBytes + estimate > _bufferMemory && !Delivery.InCallback)
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

    public Task FlushAsync()
    {
        lock (_sync)
        {
            if (_unfinished == 0) return Task.CompletedTask;
            var waiter = new FlushWaiter(_nextSequence, _unfinished);
            _flushWaiters.Add(waiter);
            _flushBefore = _nextSequence;
            _senderWakeAt = Awake;
            Monitor.PulseAll(_sync);
            return waiter.Task;
        }
    }

    /// <summary>Records accepted and not yet reported (for diagnostics and tests).</summary>
    public int PendingBatches
    {
        get { lock (_sync) return _unfinished; }
    }

    // ---- accumulation (all under _sync) ----

    private void WaitForBufferSpace(int estimate, CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)_requestTimeout.TotalMilliseconds;
        _memoryWaiters++;
        try
        {
            while (_bufferedBytes > 0 && _bufferedBytes + estimate > _bufferMemory)
            {
                ObjectDisposedException.ThrowIf(_closed, typeof(Producer));
                cancellationToken.ThrowIfCancellationRequested();
                var remaining = deadline - Environment.TickCount64;
                if (remaining <= 0)
                    throw new BrokerException(ErrorCode.RequestTimedOut,
                        $"the producer's buffer (BufferMemory={_bufferMemory} bytes) stayed full for {_requestTimeout.TotalSeconds:0.#}s: the broker is not keeping up or is unreachable");
                // Short slices so cancellation is noticed; replies pulse the monitor when they free space.
                Monitor.Wait(_sync, (int)Math.Min(remaining, 100));
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
        var builder = _builders.Count > 0 ? _builders.Pop() : new RecordBatchBuilder(_batchSize + BuilderSlack);
        var now = Environment.TickCount64;
        batch.Start(topic, partition, _nextSequence++, now, builder);
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
        if (due >= _senderWakeAt) return;
        _senderWakeAt = Awake;
        Monitor.PulseAll(_sync);
    }

    // ---- sending (sender thread) ----

    private void SendLoop()
    {
        var taken = new List<ProducerBatch>();
        while (true)
        {
            InFlightRequest request;
            lock (_sync)
            {
                while (true)
                {
                    var now = Environment.TickCount64;
                    long wakeAt;
                    if (_inFlightCount >= _maxInFlight) wakeAt = WaitingForSlot;
                    else if (TakeSendable(now, taken, out wakeAt)) break;
                    else if (_closed) return;
                    _senderWakeAt = wakeAt;
                    var timeout = wakeAt is Idle or WaitingForSlot ? Timeout.Infinite : (int)Math.Clamp(wakeAt - now, 1, int.MaxValue);
                    Monitor.Wait(_sync, timeout);
                    _senderWakeAt = Awake;
                }
                request = new InFlightRequest(this, taken.ToArray());
                taken.Clear();
                if (_acks != Acks.None)
                {
                    _inFlight.Enqueue(request);
                    _inFlightCount++;
                }
            }
            Send(request);
        }
    }

    /// <summary>Ready batches oldest first, then open batches whose linger passed (or that a flush waits for), up to MaxRequestSize.</summary>
    private bool TakeSendable(long now, List<ProducerBatch> taken, out long wakeAt)
    {
        wakeAt = Idle;
        var bytes = RequestOverhead;
        while (_ready.Count > 0)
        {
            var next = _ready.Peek();
            if (taken.Count > 0 && bytes + next.RequestBytes > _maxRequestSize) return true;
            bytes += next.RequestBytes;
            taken.Add(_ready.Dequeue());
        }
        // Only reached with the ready queue empty, so an open batch never overtakes its partition's closed ones.
        for (var i = _open.Count - 1; i >= 0; i--)
        {
            var batch = _open[i];
            var due = batch.CreatedAt + _lingerMs;
            if (due > now && batch.Sequence >= _flushBefore && !_closed)
            {
                if (due < wakeAt) wakeAt = due;
                continue;
            }
            if (taken.Count > 0 && bytes + batch.RequestBytes > _maxRequestSize) break;
            bytes += batch.RequestBytes;
            RemoveOpen(batch);
            batch.Close();
            taken.Add(batch);
        }
        return taken.Count > 0;
    }

    private void Send(InFlightRequest request)
    {
        var batches = request.Batches;
        var parts = new ProducePartitionData[batches.Length];
        for (var i = 0; i < batches.Length; i++)
        {
            var batch = batches[i];
            parts[i] = new ProducePartitionData(batch.Topic.Name, batch.Partition, batch.Bytes);
        }
        // The batches are copied into the request's wire bytes here, on this thread (the one copy they make
        // in the client), so their builders are free for new records at once, long before the reply.
        var produce = ProduceRequest.Encode((short)_acks, _serverTimeoutMs, parts);
        lock (_sync)
        {
            foreach (var batch in batches) ReturnBuilder(batch);
        }

        if (_acks == Acks.None)
        {
            try
            {
                _transport.SendOneWay(produce);
                request.Outcome = SentWithoutAck;
            }
            catch (Exception ex)
            {
                request.Outcome = Task.FromException<object>(ex);
            }
            // Only this thread reports when nothing is acknowledged, so reports stay in order.
            Report(request);
            return;
        }

        Task<object> reply;
        try
        {
            reply = _transport.Send(produce, _requestTimeout);
        }
        catch (Exception ex)
        {
            reply = Task.FromException<object>(ex);
        }
        reply.ContinueWith(static (task, state) =>
        {
            var r = (InFlightRequest)state!;
            r.Owner.OnReplied(r, task);
        }, request, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    // ---- reporting (thread-pool threads, one at a time, in request order) ----

    private void OnReplied(InFlightRequest request, Task<object> outcome)
    {
        lock (_sync)
        {
            if (request.Abandoned) return;
            request.Outcome = outcome;
            if (_reporting) return; // the thread reporting now will get to it
            _reporting = true;
        }
        while (true)
        {
            InFlightRequest head;
            lock (_sync)
            {
                if (_inFlight.Count == 0 || _inFlight.Peek().Outcome is null)
                {
                    _reporting = false;
                    return;
                }
                head = _inFlight.Dequeue();
            }
            try
            {
                Report(head);
            }
            catch (Exception ex)
            {
                // A bug here would otherwise stop all reporting silently; make it visible and carry on.
                Console.Error.WriteLine($"broker-client: reporting a produce reply failed: {ex}");
            }
        }
    }

    private void Report(InFlightRequest request)
    {
        var batches = request.Batches;
        var outcome = request.Outcome!;
        List<(ProducerBatch Batch, BrokerException Error)>? failed = null;
        if (outcome.IsCompletedSuccessfully && ReferenceEquals(outcome.Result, NoAck))
        {
            foreach (var batch in batches) SucceedAll(batch, -1);
        }
        else if (outcome.IsCompletedSuccessfully && outcome.Result is ProduceResponse response && response.Results.Count == batches.Length)
        {
            for (var i = 0; i < batches.Length; i++)
            {
                var batch = batches[i];
                var result = response.Results[i];
                if (result.Error == ErrorCode.None && result.Partition == batch.Partition && result.Topic == batch.Topic.Name)
                {
                    SucceedAll(batch, result.BaseOffset);
                    continue;
                }
                var error = result.Error == ErrorCode.None
                    ? new BrokerException(ErrorCode.Unknown, $"the reply for {batch.Topic.Name}/{batch.Partition} names {result.Topic}/{result.Partition}; check that client and broker versions match")
                    : BrokerErrors.From(result.Error, result.ErrorMessage);
                FailAll(batch, error);
                (failed ??= []).Add((batch, error));
            }
        }
        else
        {
            var error = ErrorOf(outcome);
            foreach (var batch in batches)
            {
                FailAll(batch, error);
                (failed ??= []).Add((batch, error));
            }
        }
        var after = request.FailAfter;
        if (after is not null)
        {
            foreach (var (batch, error) in after) FailAll(batch, error);
        }

        List<(ProducerBatch Batch, BrokerException Error)>? failNow = null;
        lock (_sync)
        {
            if (_acks != Acks.None) _inFlightCount--;
            // Before Finish, which recycles the batches.
            if (failed is not null)
            {
                foreach (var (batch, error) in failed) FailQueuedBehind(batch.Topic, batch.Partition, error, ref failNow);
            }
            foreach (var batch in batches) Finish(batch);
            if (after is not null)
            {
                foreach (var (batch, _) in after) Finish(batch);
            }
            if (_memoryWaiters > 0 || _senderWakeAt != Awake) Monitor.PulseAll(_sync);
        }
        if (failNow is null) return;
        foreach (var (batch, error) in failNow) FailAll(batch, error);
        lock (_sync)
        {
            foreach (var (batch, _) in failNow) Finish(batch);
            if (_memoryWaiters > 0) Monitor.PulseAll(_sync);
        }
    }

    /// <summary>
    /// After a failure in a partition, its batches still queued are failed too, in order: after the last
    /// in-flight request carrying that partition if there is one, else right away.
    /// </summary>
    private void FailQueuedBehind(TopicState topic, int partition, BrokerException error, ref List<(ProducerBatch, BrokerException)>? failNow)
    {
        if (error.Error is ErrorCode.UnknownTopic or ErrorCode.UnknownPartition) ForgetTopic(topic);
        List<ProducerBatch>? queued = null;
        if (_ready.Count > 0)
        {
            var count = _ready.Count;
            for (var i = 0; i < count; i++)
            {
                var batch = _ready.Dequeue();
                if (ReferenceEquals(batch.Topic, topic) && batch.Partition == partition) (queued ??= []).Add(batch);
                else _ready.Enqueue(batch);
            }
        }
        if (topic.Open[partition] is { } open)
        {
            RemoveOpen(open);
            (queued ??= []).Add(open);
        }
        if (queued is null) return;

        InFlightRequest? carrier = null;
        foreach (var request in _inFlight)
        {
            foreach (var batch in request.Batches)
            {
                if (ReferenceEquals(batch.Topic, topic) && batch.Partition == partition)
                {
                    carrier = request;
                    break;
                }
            }
        }
        var target = carrier is null ? failNow ??= [] : carrier.FailAfter ??= [];
        foreach (var batch in queued) target.Add((batch, error));
    }

    private static void SucceedAll(ProducerBatch batch, long baseOffset)
    {
        var topic = batch.Topic.Name;
        var partition = batch.Partition;
        var deliveries = batch.Deliveries;
        for (var i = 0; i < deliveries.Length; i++)
            Delivery.Succeed(deliveries[i], new DeliveryResult(topic, partition, baseOffset < 0 ? -1 : baseOffset + i));
    }

    private static void FailAll(ProducerBatch batch, BrokerException error)
    {
        foreach (var delivery in batch.Deliveries) Delivery.Fail(delivery, error);
    }

    private static BrokerException ErrorOf(Task<object> outcome)
    {
        if (outcome.IsCanceled) return new BrokerException(ErrorCode.RequestTimedOut, "the produce request was cancelled before the broker answered; the records may or may not be stored");
        if (outcome.IsFaulted)
        {
            var cause = outcome.Exception!.InnerException ?? outcome.Exception;
            return cause as BrokerException ?? new BrokerException(ErrorCode.Unknown, $"the produce request failed: {cause.Message}", cause);
        }
        return BrokerErrors.Of(outcome.Result, "the produce request");
    }

    /// <summary>The batch is reported: release its buffer space, count it for flushes, pool it.</summary>
    private void Finish(ProducerBatch batch)
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

    /// <summary>Takes the batch's builder back into the pool (under _sync); a no-op if it was already returned.</summary>
    private void ReturnBuilder(ProducerBatch batch)
    {
        var builder = batch.TakeBuilder();
        // A builder that grew for one huge record would pin that memory in the pool.
        if (builder is not null && _builders.Count < MaxPooledBatches && builder.Capacity <= 2 * (_batchSize + BuilderSlack))
            _builders.Push(builder);
    }

    // ---- shutdown ----

    /// <summary>Stops the sender and fails everything not yet reported (call after a flush, which normally leaves nothing).</summary>
    public void Close()
    {
        var abandoned = new List<ProducerBatch>();
        lock (_sync)
        {
            if (_closed) return;
            _closed = true;
            while (_ready.Count > 0) abandoned.Add(_ready.Dequeue());
            while (_open.Count > 0)
            {
                var open = _open[^1];
                RemoveOpen(open);
                abandoned.Add(open);
            }
            foreach (var request in _inFlight)
            {
                request.Abandoned = true;
                abandoned.AddRange(request.Batches);
                if (request.FailAfter is { } after)
                {
                    foreach (var (batch, _) in after) abandoned.Add(batch);
                }
            }
            _inFlight.Clear();
            _inFlightCount = 0;
            Monitor.PulseAll(_sync);
        }
        // With acks=0 the sender thread runs the callbacks, and one of them may be disposing us.
        if (Thread.CurrentThread != _sender) _sender.Join(_requestTimeout);
        if (abandoned.Count == 0) return;
        var error = new BrokerException(ErrorCode.RequestTimedOut,
            "the producer was disposed before the broker confirmed the record; it may or may not be stored (flush before disposing, or raise RequestTimeout)");
        foreach (var batch in abandoned) FailAll(batch, error);
        lock (_sync)
        {
            foreach (var batch in abandoned) Finish(batch);
        }
    }
}
