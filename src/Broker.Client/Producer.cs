using System.Collections.Concurrent;
using System.Diagnostics;
using Broker.Client.Internal;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;

namespace Broker.Client;

/// <summary>
/// Produces records to topics, batching them per partition as Kafka's producer does.
/// <para>
/// Design: callers append records under one lock into per-partition <see cref="RecordBatchBuilder"/>s
/// (RecordBatch v2 bytes, no per-record allocation beyond the delivery report). A batch closes at
/// <see cref="ProducerConfig.BatchSize"/> bytes or after <see cref="ProducerConfig.LingerMs"/>. One sender
/// task packs closed batches of many partitions into produce requests up to
/// <see cref="ProducerConfig.MaxRequestSize"/> and keeps up to <see cref="ProducerConfig.MaxInFlight"/> of
/// them outstanding. Requests leave in order over one Akka.Remote association, so each partition's
/// batches are stored in the order they were produced.
/// </para>
/// </summary>
public sealed class Producer : IDisposable, IAsyncDisposable
{
    private readonly ProducerConfig _config;
    private readonly GatewayConnection _connection;
    private readonly object _lock = new();
    private readonly Dictionary<TopicPartition, ProducerBatch> _open = new();
    private readonly Queue<ProducerBatch> _ready = new();
    private readonly Dictionary<string, int> _sticky = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _partitionCounts = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<RecordBatchBuilder> _builders = new();
    private readonly SemaphoreSlim _inFlight;
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sender;
    private readonly long _lingerTicks;
    private long _bufferedBytes;
    private long _pendingRecords;
    private bool _flushRequested;
    private TaskCompletionSource? _idle;
    private int _disposed;

    /// <summary>Creates a producer; it connects to a node on first use.</summary>
    public Producer(ProducerConfig config)
    {
        if (config.BatchSize <= 0 || config.MaxRequestSize <= 0 || config.MaxInFlight <= 0 || config.LingerMs < 0)
            throw new ArgumentException("BatchSize, MaxRequestSize and MaxInFlight must be positive and LingerMs not negative");
        _config = config;
        _connection = new GatewayConnection(config);
        _inFlight = new SemaphoreSlim(config.MaxInFlight, config.MaxInFlight);
        _lingerTicks = config.LingerMs * Stopwatch.Frequency / 1000;
        _sender = Task.Run(SendLoop);
    }

    /// <summary>Produces a record; the task completes when the node acknowledged it (acks 1/all) or when it was sent (acks 0).</summary>
    public Task<DeliveryResult> ProduceAsync(string topic, Message message, CancellationToken ct = default) =>
        ProduceAsync(topic, -1, message, ct);

    /// <summary>Produces a record to an explicit partition.</summary>
    public Task<DeliveryResult> ProduceAsync(string topic, int partition, Message message, CancellationToken ct = default)
    {
        var tcs = new TaskCompletionSource<DeliveryResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(topic, partition, message, new Delivery(null, tcs));
        return ct.CanBeCanceled ? tcs.Task.WaitAsync(ct) : tcs.Task;
    }

    /// <summary>
    /// Produces a record and reports the outcome to <paramref name="onDelivery"/> (result or error) from a
    /// background thread. Cheaper than ProduceAsync: no task per record. Blocks while buffer.memory is full.
    /// </summary>
    public void Produce(string topic, Message message, Action<DeliveryResult?, BrokerException?> onDelivery) =>
        Enqueue(topic, -1, message, new Delivery(onDelivery, null));

    /// <summary>Produces a record to an explicit partition, reporting to a callback.</summary>
    public void Produce(string topic, int partition, Message message, Action<DeliveryResult?, BrokerException?> onDelivery) =>
        Enqueue(topic, partition, message, new Delivery(onDelivery, null));

    /// <summary>Sends every buffered record now and waits until all outstanding records are acknowledged or failed.</summary>
    public Task FlushAsync(CancellationToken ct = default)
    {
        Task idle;
        lock (_lock)
        {
            if (_pendingRecords == 0) return Task.CompletedTask;
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            idle = _idle.Task;
            _flushRequested = true;
        }
        _wake.Release();
        return ct.CanBeCanceled ? idle.WaitAsync(ct) : idle;
    }

    /// <summary>Blocking flush; throws TimeoutException if records are still outstanding after <paramref name="timeout"/>.</summary>
    public void Flush(TimeSpan timeout)
    {
        if (!FlushAsync().Wait(timeout)) throw new TimeoutException($"{Interlocked.Read(ref _pendingRecords)} records still outstanding after {timeout}");
    }

    private void Enqueue(string topic, int partition, Message message, Delivery delivery)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var size = RecordBatchBuilder.EstimateRecordSize(message.Key?.Length ?? 0, message.Value?.Length ?? 0, message.Headers);
        if (size + RecordBatch.HeaderSize > _config.MaxRequestSize)
        {
            delivery.Fail(new BrokerException(ErrorCode.RecordTooLarge,
                $"record of about {size} bytes is larger than max.request.size ({_config.MaxRequestSize}); raise MaxRequestSize or send smaller records"));
            return;
        }

        int partitions;
        try
        {
            partitions = PartitionCount(topic);
        }
        catch (BrokerException error)
        {
            delivery.Fail(error);
            return;
        }
        if (partition >= partitions || partition < -1)
        {
            delivery.Fail(new BrokerException(ErrorCode.UnknownPartition, $"topic '{topic}' has partitions 0 to {partitions - 1}; partition {partition} does not exist"));
            return;
        }

        var wake = false;
        lock (_lock)
        {
            while (_bufferedBytes > 0 && _bufferedBytes + size > _config.BufferMemory) Monitor.Wait(_lock);
            var keyed = message.Key is not null;
            var target = partition >= 0 ? partition
                : keyed ? KeyPartitioner.Partition(message.Key, partitions)
                : StickyPartition(topic, partitions);
            var tp = new TopicPartition(topic, target);
            if (_open.TryGetValue(tp, out var batch) && batch.Builder.SizeInBytes + size > _config.BatchSize)
            {
                Close(batch);
                wake = true;
                if (partition < 0 && !keyed)
                {
                    tp = new TopicPartition(topic, NextSticky(topic, partitions, target));
                    _open.TryGetValue(tp, out batch);
                }
                else batch = null;
            }
            if (batch is null)
            {
                batch = new ProducerBatch(tp, RentBuilder());
                _open[tp] = batch;
                wake |= _open.Count == 1; // the sender may be sleeping without a linger deadline
            }
            batch.Add(message, delivery);
            batch.ReservedBytes += size;
            _bufferedBytes += size;
            _pendingRecords++;
            if (batch.Builder.SizeInBytes >= _config.BatchSize)
            {
                Close(batch);
                wake = true;
            }
        }
        if (wake) _wake.Release();
    }

    private int StickyPartition(string topic, int partitions)
    {
        if (!_sticky.TryGetValue(topic, out var p) || p >= partitions) p = NextSticky(topic, partitions, -1);
        return p;
    }

    private int NextSticky(string topic, int partitions, int previous)
    {
        var next = partitions == 1 ? 0 : Random.Shared.Next(partitions - 1);
        if (partitions > 1 && next >= previous && previous >= 0) next++;
        _sticky[topic] = next;
        return next;
    }

    private void Close(ProducerBatch batch)
    {
        _open.Remove(batch.Partition);
        _ready.Enqueue(batch);
    }

    private int PartitionCount(string topic)
    {
        if (_partitionCounts.TryGetValue(topic, out var count)) return count;
        var metadata = _connection.AskAsync<MetadataResponse>(new MetadataRequest([topic])).GetAwaiter().GetResult();
        var t = metadata.Topics.Count == 1 ? metadata.Topics[0] : null;
        if (t is null || t.Error != ErrorCode.None)
            throw new BrokerException(t?.Error ?? ErrorCode.UnknownTopic, t?.ErrorMessage ?? $"topic '{topic}' does not exist; create it with `broker topics create {topic}`");
        _partitionCounts[topic] = t.Partitions.Count;
        return t.Partitions.Count;
    }

    private RecordBatchBuilder RentBuilder()
    {
        if (_builders.TryTake(out var builder)) return builder;
        return new RecordBatchBuilder(Math.Min(_config.BatchSize + 1024, _config.MaxRequestSize));
    }

    // ---- sender ----

    private async Task SendLoop()
    {
        var token = _stop.Token;
        while (true)
        {
            var request = TakeRequest(out var waitTicks);
            if (request is null)
            {
                if (token.IsCancellationRequested) return;
                var timeout = waitTicks < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromTicks(Math.Max(1, waitTicks * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
                try
                {
                    await _wake.WaitAsync(timeout, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
                continue;
            }
            await _inFlight.WaitAsync().ConfigureAwait(false);
            _ = SendAsync(request);
        }
    }

    /// <summary>
    /// Moves batches whose linger expired (or all, on flush) to the ready queue and takes ready batches up
    /// to max.request.size. Null when nothing is ready; then <paramref name="waitTicks"/> is the time until
    /// the oldest open batch lingers out (-1 when there is none).
    /// </summary>
    private List<ProducerBatch>? TakeRequest(out long waitTicks)
    {
        waitTicks = -1;
        lock (_lock)
        {
            var now = Stopwatch.GetTimestamp();
            if (_open.Count > 0)
            {
                List<ProducerBatch>? expired = null;
                foreach (var batch in _open.Values)
                {
                    var due = batch.CreatedTicks + _lingerTicks - now;
                    if (_flushRequested || due <= 0 || _stop.IsCancellationRequested) (expired ??= new()).Add(batch);
                    else if (waitTicks < 0 || due < waitTicks) waitTicks = due;
                }
                if (expired is not null) foreach (var batch in expired) Close(batch);
            }
            _flushRequested = false;
            if (_ready.Count == 0) return null;

            var taken = new List<ProducerBatch>();
            long bytes = 0;
            while (_ready.Count > 0 && (taken.Count == 0 || bytes + _ready.Peek().Builder.SizeInBytes <= _config.MaxRequestSize))
            {
                var batch = _ready.Dequeue();
                bytes += batch.Builder.SizeInBytes;
                taken.Add(batch);
            }
            return taken;
        }
    }

    private async Task SendAsync(List<ProducerBatch> batches)
    {
        try
        {
            var parts = new ProducePartitionData[batches.Count];
            for (var i = 0; i < batches.Count; i++)
            {
                var batch = batches[i];
                parts[i] = new ProducePartitionData(batch.Partition.Topic, batch.Partition.Partition, batch.Builder.Build());
                batch.Builder.Reset();
                _builders.Add(batch.Builder);
            }
            var request = new ProduceRequest((short)_config.Acks, (int)_config.RequestTimeout.TotalMilliseconds, parts);
            if (_config.Acks == Acks.None)
            {
                await _connection.TellAsync(request).ConfigureAwait(false);
                foreach (var batch in batches) batch.Complete(-1);
                return;
            }

            var response = await _connection.AskAsync<ProduceResponse>(request, _config.RequestTimeout + TimeSpan.FromSeconds(5), idempotent: false).ConfigureAwait(false);
            for (var i = 0; i < batches.Count; i++)
            {
                var result = i < response.Results.Count ? response.Results[i] : null;
                if (result is { Error: ErrorCode.None }) batches[i].Complete(result.BaseOffset);
                else batches[i].Fail(new BrokerException(result?.Error ?? ErrorCode.Unknown, result?.ErrorMessage ?? "the broker returned no result for this batch"));
            }
        }
        catch (BrokerException error)
        {
            foreach (var batch in batches) batch.Fail(error);
        }
        catch (Exception ex)
        {
            var error = new BrokerException(ErrorCode.Unknown, $"sending failed: {ex.Message}");
            foreach (var batch in batches) batch.Fail(error);
        }
        finally
        {
            Release(batches);
            _inFlight.Release();
        }
    }

    private void Release(List<ProducerBatch> batches)
    {
        lock (_lock)
        {
            foreach (var batch in batches)
            {
                _bufferedBytes -= batch.ReservedBytes;
                _pendingRecords -= batch.Count;
            }
            Monitor.PulseAll(_lock);
            if (_pendingRecords == 0 && _idle is not null)
            {
                _idle.TrySetResult();
                _idle = null;
            }
        }
    }

    /// <summary>Flushes (waiting up to the request timeout), then releases the connection.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        try
        {
            FlushAsync().Wait(_config.RequestTimeout);
        }
        catch (AggregateException)
        {
        }
        _stop.Cancel();
        _wake.Release();
        _sender.Wait(TimeSpan.FromSeconds(5));
        _connection.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
