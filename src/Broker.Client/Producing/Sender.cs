// The producer's sender thread, as in Kafka's Java client: drains the accumulator into produce requests and reports replies in order.
using Broker.Client.Connection;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Client.Producing;

/// <summary>
/// One dedicated thread sends; replies are reported on thread-pool threads.
/// <list type="bullet">
/// <item>The thread waits on the accumulator's monitor until a batch is due and fewer than MaxInFlight requests
/// are outstanding, then puts the drained batches into one ProduceRequest up to MaxRequestSize. Only this thread
/// sends, so requests leave in order over one Akka.Remote association and the node appends each partition's
/// batches in that order.</item>
/// <item>Replies are reported strictly in request order (a reply that came early waits for the requests before
/// it), so each partition's deliveries are reported in order.</item>
/// <item>When a batch fails, the batches of that partition still queued behind it are failed with the same
/// error (never sent), after the in-flight requests that carry its earlier batches.</item>
/// </list>
/// </summary>
internal sealed class Sender
{
    private static readonly object NoAck = new();
    private static readonly Task<object> SentWithoutAck = Task.FromResult(NoAck);

    private readonly RecordAccumulator _accumulator;
    private readonly IBrokerTransport _transport;
    private readonly Acks _acks;
    private readonly int _maxInFlight;
    private readonly int _maxRequestSize;
    private readonly TimeSpan _requestTimeout;
    private readonly int _serverTimeoutMs;
    private readonly Queue<InFlightRequest> _inFlight = new();
    private readonly Thread _thread;

    // Under the accumulator's monitor.
    private int _inFlightCount;
    private bool _reporting;

    public Sender(ProducerConfig config, RecordAccumulator accumulator, IBrokerTransport transport)
    {
        _accumulator = accumulator;
        _transport = transport;
        _acks = config.Acks;
        _maxInFlight = config.MaxInFlight;
        _maxRequestSize = config.MaxRequestSize;
        _requestTimeout = config.RequestTimeout;
        // The node gives up on an append a little before we give up on the request, so a slow partition
        // comes back as a typed RequestTimedOut for that partition instead of an Ask timeout for all of them.
        var ms = config.RequestTimeout.TotalMilliseconds;
        _serverTimeoutMs = (int)Math.Clamp(ms - Math.Min(1000, ms / 2), 1, int.MaxValue);
        _thread = new Thread(SendLoop) { IsBackground = true, Name = "broker-producer-sender" };
        _thread.Start();
    }

    private object Sync => _accumulator.Sync;

    // ---- sending (the sender thread) ----

    private void SendLoop()
    {
        var taken = new List<ProducerBatch>();
        while (true)
        {
            InFlightRequest request;
            lock (Sync)
            {
                while (true)
                {
                    var now = Environment.TickCount64;
                    long wakeAt;
                    if (_inFlightCount >= _maxInFlight) wakeAt = RecordAccumulator.SenderWaitingForSlot;
                    else if (_accumulator.Drain(now, _maxRequestSize, taken, out wakeAt)) break;
                    else if (_accumulator.IsClosed) return;
                    _accumulator.SenderSleepsUntil = wakeAt;
                    var timeout = wakeAt is RecordAccumulator.SenderIdle or RecordAccumulator.SenderWaitingForSlot
                        ? Timeout.Infinite
                        : (int)Math.Clamp(wakeAt - now, 1, int.MaxValue);
                    Monitor.Wait(Sync, timeout);
                    _accumulator.SenderSleepsUntil = RecordAccumulator.SenderAwake;
                }
                // Enqueued under the same lock as the drain, so a failure always finds the request carrying a partition's batches.
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
        _accumulator.ReturnBuilders(batches);

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
        lock (Sync)
        {
            if (request.Abandoned) return;
            request.Outcome = outcome;
            if (_reporting) return; // the thread reporting now will get to it
            _reporting = true;
        }
        while (true)
        {
            InFlightRequest head;
            lock (Sync)
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
        lock (Sync)
        {
            if (_acks != Acks.None) _inFlightCount--;
            // Before Release, which recycles the batches.
            if (failed is not null)
            {
                foreach (var (batch, error) in failed) FailQueuedBehind(batch.Topic, batch.Partition, error, ref failNow);
            }
            foreach (var batch in batches) _accumulator.Release(batch);
            if (after is not null)
            {
                foreach (var (batch, _) in after) _accumulator.Release(batch);
            }
            _accumulator.WakeWaiters();
        }
        if (failNow is null) return;
        foreach (var (batch, error) in failNow) FailAll(batch, error);
        lock (Sync)
        {
            foreach (var (batch, _) in failNow) _accumulator.Release(batch);
            _accumulator.WakeWaiters();
        }
    }

    /// <summary>
    /// After a failure in a partition, its batches still queued are failed too, in order: after the last
    /// in-flight request carrying that partition if there is one, else right away (under Sync).
    /// </summary>
    private void FailQueuedBehind(TopicState topic, int partition, BrokerException error, ref List<(ProducerBatch, BrokerException)>? failNow)
    {
        var queued = _accumulator.TakeQueued(topic, partition, error.Error);
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
            deliveries[i].Succeed(new DeliveryResult(topic, partition, baseOffset < 0 ? -1 : baseOffset + i));
    }

    private static void FailAll(ProducerBatch batch, BrokerException error)
    {
        foreach (var delivery in batch.Deliveries) delivery.Fail(error);
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

    // ---- shutdown ----

    /// <summary>Stops the thread and fails everything not yet reported (call after a flush, which normally leaves nothing).</summary>
    public void Close()
    {
        var abandoned = new List<ProducerBatch>();
        lock (Sync)
        {
            if (_accumulator.IsClosed) return;
            _accumulator.Close(abandoned);
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
        }
        // With acks=0 the sender thread runs the callbacks, and one of them may be disposing us.
        if (Thread.CurrentThread != _thread) _thread.Join(_requestTimeout);
        if (abandoned.Count == 0) return;
        var error = new BrokerException(ErrorCode.RequestTimedOut,
            "the producer was disposed before the broker confirmed the record; it may or may not be stored (flush before disposing, or raise RequestTimeout)");
        foreach (var batch in abandoned) FailAll(batch, error);
        lock (Sync)
        {
            foreach (var batch in abandoned) _accumulator.Release(batch);
        }
    }
}
