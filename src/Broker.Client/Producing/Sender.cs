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
/// <item>An idempotent producer (<see cref="ProducerConfig.IsIdempotent"/>) first gets a producer id from the
/// broker, stamps it and each partition's next sequence on a batch when it is first sent, and sends a batch that
/// failed with a retriable error again, byte for byte, after <see cref="ProducerConfig.RetryBackoffMs"/> and within
/// <see cref="ProducerConfig.DeliveryTimeout"/>: the partition recognises one it already has and answers with its
/// offsets, so a failover or a lost reply stores nothing twice. Its partition sends nothing newer meanwhile. A
/// retried batch is reported when its retry is, so it may be reported after a newer batch of its partition. A
/// numbered batch that fails for good would leave a gap in its partition's sequence: the producer then takes a
/// new producer id, whose sequences start at 0 again.</item>
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
    private readonly bool _idempotent;
    private readonly int _retryBackoffMs;
    private readonly Queue<InFlightRequest> _inFlight = new();
    private readonly Thread _thread;

    // Under the accumulator's monitor.
    private int _inFlightCount;
    private bool _reporting;
    private long _producerId = -1; // -1 until the broker gave one (and again after a sequence error)
    private short _producerEpoch;

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
        _idempotent = config.IsIdempotent;
        _retryBackoffMs = config.RetryBackoffMs;
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
            InFlightRequest? request = null;
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
                if (!_idempotent || _producerId >= 0) request = StartRequest(taken);
            }
            // The first send of an idempotent producer (or the first after a sequence error): get an id first.
            if (request is null)
            {
                var failure = AcquireProducerId();
                lock (Sync)
                {
                    if (failure is null)
                    {
                        request = StartRequest(taken);
                    }
                    else
                    {
                        // Never sent: fail them now, in order; the next batches ask for an id again.
                        foreach (var batch in taken) FailAll(batch, failure);
                        foreach (var batch in taken) _accumulator.Release(batch);
                        taken.Clear();
                        _accumulator.WakeWaiters();
                        continue;
                    }
                }
            }
            Send(request);
        }
    }

    /// <summary>
    /// Stamps the drained batches (idempotent producers) and makes them a request (under Sync). Enqueued under the
    /// same lock as the drain, so a failure always finds the request carrying a partition's batches.
    /// </summary>
    private InFlightRequest StartRequest(List<ProducerBatch> taken)
    {
        if (_idempotent)
        {
            foreach (var batch in taken)
            {
                if (batch.BaseSequence >= 0) continue; // a retry keeps the identity it was first sent with
                var sequences = batch.Topic.NextSequence;
                var first = sequences[batch.Partition];
                batch.StampProducer(_producerId, _producerEpoch, first);
                sequences[batch.Partition] = (int)((first + (long)batch.DeliveryCount) & int.MaxValue); // wraps to 0, as Kafka's
            }
        }
        var request = new InFlightRequest(this, taken.ToArray());
        taken.Clear();
        if (_acks != Acks.None)
        {
            _inFlight.Enqueue(request);
            _inFlightCount++;
        }
        return request;
    }

    /// <summary>Asks the broker for a producer id (on the sender thread, outside the lock); the error if it could not.</summary>
    private BrokerException? AcquireProducerId()
    {
        try
        {
            var granted = _transport.RequestAsync<InitProducerIdResponse>(new InitProducerIdRequest(), idempotent: true).GetAwaiter().GetResult();
            if (granted.Error != ErrorCode.None) return BrokerErrors.From(granted);
            lock (Sync)
            {
                _producerId = granted.ProducerId;
                _producerEpoch = granted.ProducerEpoch;
                _accumulator.ResetSequences();
            }
            return null;
        }
        catch (BrokerException ex)
        {
            return new BrokerException(ex.Error, $"the idempotent producer could not get a producer id ({ex.Message}); the records were not sent. Set EnableIdempotence = false to produce without one", ex);
        }
    }

    private void Send(InFlightRequest request)
    {
        var batches = request.Batches;
        var parts = new ProducePartitionData[batches.Length];
        for (var i = 0; i < batches.Length; i++)
        {
            var batch = batches[i];
            parts[i] = new ProducePartitionData(batch.Topic.Name, batch.Partition, batch.SendBytes);
        }
        // The batches are copied into the request's wire bytes here, on this thread (the one copy they make
        // in the client), so their builders are free for new records at once, long before the reply.
        var produce = ProduceRequest.Encode((short)_acks, _serverTimeoutMs, parts);
        if (_idempotent)
        {
            // A retry sends exactly these bytes again: keep them (slices of this request's frame).
            for (var i = 0; i < batches.Length; i++) batches[i].Sent = produce.Partitions[i].Batch;
        }
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
        List<ProducerBatch>? retry = null;
        var now = Environment.TickCount64;
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
                if (ShouldRetry(batch, error.Error, now, retry))
                {
                    (retry ??= []).Add(batch);
                    continue;
                }
                error = GaveUp(batch, error);
                FailAll(batch, error);
                (failed ??= []).Add((batch, error));
            }
        }
        else
        {
            var error = ErrorOf(outcome);
            foreach (var batch in batches)
            {
                if (ShouldRetry(batch, error.Error, now, retry))
                {
                    (retry ??= []).Add(batch);
                    continue;
                }
                var reported = GaveUp(batch, error);
                FailAll(batch, reported);
                (failed ??= []).Add((batch, reported));
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
            if (retry is not null)
            {
                foreach (var batch in retry) _accumulator.Requeue(batch, now + _retryBackoffMs);
            }
            // Before Release, which recycles the batches.
            if (failed is not null)
            {
                foreach (var (batch, error) in failed)
                {
                    FailQueuedBehind(batch.Topic, batch.Partition, error, ref failNow);
                    // A numbered batch that will never be stored leaves a gap the partition would refuse every later
                    // batch for (or the sequence is already broken): start again with a new id, as Kafka's clients do.
                    if (_idempotent && batch.ProducerId >= 0 && batch.ProducerId == _producerId) _producerId = -1;
                }
            }
            foreach (var batch in batches)
            {
                if (retry is null || !retry.Contains(batch)) _accumulator.Release(batch);
            }
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

    /// <summary>
    /// Whether an idempotent producer sends the batch again: a retriable error (the leader moved or is being
    /// elected, too few replicas, no answer in time) within the delivery timeout. OutOfOrderSequence is retriable
    /// only while an older batch of the partition is itself being sent again: the partition refused this one
    /// because that one is not there yet.
    /// </summary>
    private bool ShouldRetry(ProducerBatch batch, ErrorCode error, long now, List<ProducerBatch>? retryingNow)
    {
        if (!_idempotent || batch.BaseSequence < 0 || now + _retryBackoffMs > batch.DeliveryDeadline) return false;
        switch (error)
        {
            case ErrorCode.NotLeader or ErrorCode.LeaderNotAvailable or ErrorCode.NotEnoughReplicas or ErrorCode.NotEnoughReplicasAfterAppend
                or ErrorCode.RequestTimedOut or ErrorCode.BrokerNotAvailable:
                return true;
            case ErrorCode.OutOfOrderSequence:
                if (retryingNow is not null)
                {
                    foreach (var other in retryingNow)
                        if (batch.SamePartitionAs(other)) return true;
                }
                lock (Sync) return _accumulator.RetriesBefore(batch) || ResentBefore(batch);
            default:
                return false;
        }
    }

    /// <summary>
    /// Whether an older batch of the partition is in flight again (under Sync). Requests report in send order, so
    /// an older batch in a request still outstanding is one that was sent again.
    /// </summary>
    private bool ResentBefore(ProducerBatch batch)
    {
        foreach (var request in _inFlight)
        {
            foreach (var other in request.Batches)
                if (batch.IsOlderOfSamePartition(other)) return true;
        }
        return false;
    }

    /// <summary>The error to report for a batch that was sent again before: says so, since it may be stored after all.</summary>
    private static BrokerException GaveUp(ProducerBatch batch, BrokerException error) =>
        batch.Retries == 0 ? error : new BrokerException(error.Error, $"{error.Message} (gave up after {batch.Retries} retries within DeliveryTimeout)", error);

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
