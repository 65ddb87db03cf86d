// Public consumer: manual partition assignment, pipelined prefetch, decoding of fetched batches.
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Broker.Client.Connection;
using Broker.Client.Consuming;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;

namespace Broker.Client;

/// <summary>
/// Reads records from the partitions you <see cref="Assign"/>. Keeps one fetch outstanding per partition
/// and buffers up to about <see cref="ConsumerConfig.FetchMaxBytes"/> ahead of what you have read, so
/// the next records are usually already here when you ask. Not thread-safe: call it from one thread
/// (Dispose may come from another).
/// </summary>
/// <example>
/// <code>
/// using var consumer = new Consumer(new ConsumerConfig { BootstrapServers = "127.0.0.1:9190" });
/// consumer.Assign([new TopicPartitionOffset("orders", 0, Offset.Beginning)]);
/// while (consumer.Consume(TimeSpan.FromSeconds(1)) is { } record) Console.WriteLine(record.Offset);
/// </code>
/// </example>
public sealed partial class Consumer : IDisposable, IAsyncDisposable
{
    private static readonly long MinUnixMs = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long MaxUnixMs = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    private readonly ConsumerConfig _config;
    private readonly IBrokerTransport _transport;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<TopicPartition, PartitionFetcher> _fetchers = [];
    private readonly List<PartitionFetcher> _order = [];
    private readonly ConcurrentQueue<FetchCompletion> _completions = new();
    private readonly SemaphoreSlim _signal = new(0);
    private TopicPartition[] _assignment = [];
    private int _nextFetcher;

    private readonly FetchCursor _cursor = new();
    private int _disposed;

    /// <summary>Creates a consumer; it connects on the first fetch. Throws <see cref="BrokerException"/> (InvalidConfig) for bad settings.</summary>
    public Consumer(ConsumerConfig config) : this(Validate(config), new GatewayConnection(config))
    {
    }

    internal Consumer(ConsumerConfig config, IBrokerTransport transport)
    {
        _config = Validate(config);
        _transport = transport;
    }

    /// <summary>The partitions assigned now.</summary>
    public IReadOnlyList<TopicPartition> Assignment => _assignment;

    /// <summary>
    /// Replaces the assignment. Each partition starts at its offset, or at <see cref="Offset.Beginning"/> /
    /// <see cref="Offset.End"/>, which are resolved with the broker when fetching starts.
    /// </summary>
    public void Assign(IEnumerable<TopicPartitionOffset> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_group is not null) throw new InvalidOperationException("this consumer is subscribed: its group assigns its partitions; call Unsubscribe() before Assign()");
        AssignCore(partitions);
    }

    private void AssignCore(IEnumerable<TopicPartitionOffset> partitions)
    {
        var wanted = new List<TopicPartitionOffset>(partitions);
        var seen = new HashSet<TopicPartition>();
        foreach (var tpo in wanted)
        {
            CheckOffset(tpo);
            if (!seen.Add(tpo.TopicPartition)) throw new ArgumentException($"{tpo.TopicPartition} is assigned twice", nameof(partitions));
        }
        Unassign();
        var assignment = new TopicPartition[wanted.Count];
        for (var i = 0; i < wanted.Count; i++)
        {
            var tpo = wanted[i];
            var fetcher = new PartitionFetcher(tpo.Topic, tpo.Partition, tpo.Offset);
            _fetchers.Add(tpo.TopicPartition, fetcher);
            _order.Add(fetcher);
            assignment[i] = tpo.TopicPartition;
        }
        _assignment = assignment;
        foreach (var fetcher in _order) MaybeFetch(fetcher);
    }

    /// <summary>Stops consuming every partition and drops what was prefetched.</summary>
    public void Unassign()
    {
        foreach (var fetcher in _order) fetcher.Detached = true;
        _fetchers.Clear();
        _order.Clear();
        _assignment = [];
        _cursor.Clear();
        _nextFetcher = 0;
    }

    /// <summary>Moves an assigned partition to another offset (or Beginning/End); prefetched records of it are dropped and a sticky error is cleared.</summary>
    public void Seek(TopicPartitionOffset tpo)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        CheckOffset(tpo);
        var fetcher = Assigned(tpo.TopicPartition);
        _cursor.ClearIf(fetcher);
        fetcher.Reset(tpo.Offset);
        MaybeFetch(fetcher);
    }

    /// <summary>The offset of the next record Consume returns for this partition (asks the broker if it started at Beginning/End and has not fetched yet).</summary>
    public long Position(TopicPartition tp)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var fetcher = Assigned(tp);
        if (!fetcher.IsResolved)
        {
            var response = _transport.RequestAsync<ListOffsetsResponse>(
                new ListOffsetsRequest(fetcher.Topic, fetcher.Partition, fetcher.Position), idempotent: true, _stopping.Token).GetAwaiter().GetResult();
            BrokerErrors.ThrowIfFailed(response);
            fetcher.Reset(response.Offset);
            MaybeFetch(fetcher);
        }
        return fetcher.Position;
    }

    /// <summary>
    /// The next record, or null if none arrived within <paramref name="timeout"/>. Throws <see cref="BrokerException"/>
    /// for a partition's error, e.g. OffsetOutOfRange (the message names the valid range; Seek to continue), or
    /// BrokerNotAvailable (thrown once; fetching is retried).
    /// </summary>
    public ConsumeResult? Consume(TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var infinite = timeout == Timeout.InfiniteTimeSpan;
        var deadline = infinite ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            if (TryNext() is { } result) return result;
            var remaining = infinite ? Timeout.Infinite : deadline - Environment.TickCount64;
            if (!infinite && remaining <= 0) return null;
            _signal.Wait((int)Math.Min(remaining, int.MaxValue));
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
        }
    }

    /// <summary>The next record, waiting as long as it takes; throws <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> is cancelled.</summary>
    public ConsumeResult? Consume(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        while (true)
        {
            if (TryNext() is { } result) return result;
            _signal.Wait(cancellationToken);
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
        }
    }

    /// <summary>Every record as it arrives, until <paramref name="cancellationToken"/> is cancelled (then the sequence just ends). Errors are thrown as by Consume.</summary>
    public async IAsyncEnumerable<ConsumeResult> ConsumeAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (TryNext() is { } result)
            {
                yield return result;
                continue;
            }
            try
            {
                await _signal.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Cancellation is how a caller says "stop": end the sequence rather than fail it.
            }
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
        }
    }

    // ---- reading ----

    private ConsumeResult? TryNext()
    {
        PollGroup();
        DrainCompletions();
        while (true)
        {
            if (_cursor.Fetcher is not null)
            {
                if (NextRecord() is { } result) return result;
                _cursor.Clear();
            }
            var fetcher = NextWithData();
            if (fetcher is null) return null;
            var records = fetcher.Buffered.Dequeue();
            fetcher.BufferedBytes -= records.Length;
            _cursor.Start(fetcher, records);
            // Room in its buffer again: keep the next fetch in flight while this one is read.
            MaybeFetch(fetcher);
        }
    }

    /// <summary>Round robin over partitions with buffered responses; a partition's error is thrown once its earlier records are read.</summary>
    private PartitionFetcher? NextWithData()
    {
        var count = _order.Count;
        for (var i = 0; i < count; i++)
        {
            var fetcher = _order[(_nextFetcher + i) % count];
            if (fetcher.Buffered.Count > 0)
            {
                _nextFetcher = (_nextFetcher + i + 1) % count;
                return fetcher;
            }
            if (fetcher.Error is { } error)
            {
                _nextFetcher = (_nextFetcher + i + 1) % count;
                if (!fetcher.ErrorIsSticky)
                {
                    fetcher.Error = null;
                    MaybeFetch(fetcher);
                }
                throw error;
            }
        }
        return null;
    }

    private ConsumeResult? NextRecord()
    {
        var fetcher = _cursor.Fetcher!;
        try
        {
            if (!_cursor.TryReadNext(out var record)) return null;
            fetcher.Position = record.Offset + 1;
            return ToResult(fetcher, record);
        }
        catch (InvalidDataException ex)
        {
            // Drop what was prefetched after it and fetch again from the position, so a retry or Seek starts clean.
            _cursor.Clear();
            fetcher.Reset(fetcher.Position);
            MaybeFetch(fetcher);
            throw new BrokerException(ErrorCode.CorruptRecord, $"{fetcher.TopicPartition} at offset {fetcher.Position}: {ex.Message}; Seek past it to skip", ex);
        }
    }

    private static ConsumeResult ToResult(PartitionFetcher fetcher, Record record)
    {
        var ms = Math.Clamp(record.Timestamp, MinUnixMs, MaxUnixMs);
        return new ConsumeResult
        {
            Topic = fetcher.Topic,
            Partition = fetcher.Partition,
            Offset = record.Offset,
            Key = record.Key?.ToArray(),
            Value = record.Value?.ToArray(),
            Headers = record.Headers,
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(ms),
        };
    }

    // ---- fetching ----

    private void DrainCompletions()
    {
        while (_completions.TryDequeue(out var completion))
        {
            var fetcher = completion.Fetcher;
            if (fetcher.Detached || completion.Generation != fetcher.Generation) continue;
            fetcher.Outstanding = false;
            switch (completion.Reply)
            {
                case FetchResponse { Error: ErrorCode.None } fetched:
                    if (fetched.LeaderEpoch > fetcher.LeaderEpoch) fetcher.LeaderEpoch = fetched.LeaderEpoch;
                    Buffer(fetcher, fetched.Records);
                    break;
                case ListOffsetsResponse { Error: ErrorCode.None } listed when listed.Offset >= 0:
                    fetcher.Position = listed.Offset;
                    fetcher.FetchOffset = listed.Offset;
                    break;
                case FetchResponse failed when IsLeaderMoving(failed.Error):
                    // Fenced: what this consumer knew about the partition is older than the cluster's; learn it afresh.
                    if (failed.Error == ErrorCode.FencedLeaderEpoch) fetcher.LeaderEpoch = -1;
                    RetryLater(fetcher, completion.Generation);
                    continue;
                case ListOffsetsResponse failed when IsLeaderMoving(failed.Error):
                    RetryLater(fetcher, completion.Generation);
                    continue;
                case RetryNow:
                    break;
                case FetchResponse failed:
                    SetError(fetcher, BrokerErrors.From(failed.Error, failed.ErrorMessage), sticky: true);
                    break;
                case ListOffsetsResponse failed:
                    SetError(fetcher, BrokerErrors.From(failed.Error == ErrorCode.None ? ErrorCode.Unknown : failed.Error,
                        failed.ErrorMessage, $"the broker returned no offset for {fetcher.TopicPartition}"), sticky: true);
                    break;
                default:
                    var cause = completion.Failure;
                    SetError(fetcher, cause as BrokerException ?? new BrokerException(ErrorCode.Unknown,
                        $"fetching {fetcher.TopicPartition} failed: {cause?.Message ?? "no reply"}", cause), sticky: false);
                    break;
            }
            MaybeFetch(fetcher);
        }
    }

    /// <summary>
    /// The partition's leader is moving (a node died or handed off): the cluster re-homes it within seconds and
    /// the gateway routes to wherever it lands, so the consumer asks again shortly instead of failing, as
    /// Kafka's consumer does with NOT_LEADER_OR_FOLLOWER.
    /// </summary>
    private static bool IsLeaderMoving(ErrorCode error) =>
        error is ErrorCode.NotLeader or ErrorCode.LeaderNotAvailable or ErrorCode.FencedLeaderEpoch;

    private static readonly TimeSpan LeaderMoveBackoff = TimeSpan.FromMilliseconds(200);

    private void RetryLater(PartitionFetcher fetcher, int generation)
    {
        fetcher.Outstanding = true; // nothing else is sent for it until the retry comes due
        Task.Delay(LeaderMoveBackoff).ContinueWith(_ =>
        {
            _completions.Enqueue(new FetchCompletion(fetcher, generation, RetryNow.Instance, null));
            _signal.Release();
        }, TaskScheduler.Default);
    }

    /// <summary>The completion a backed-off retry leaves in the queue: it only re-issues the partition's request.</summary>
    private sealed class RetryNow
    {
        public static readonly RetryNow Instance = new();
    }

    private static void SetError(PartitionFetcher fetcher, BrokerException error, bool sticky)
    {
        fetcher.Error = error;
        fetcher.ErrorIsSticky = sticky;
    }

    /// <summary>Keeps a fetched response if it reaches past what is buffered, and moves the fetch offset to its end (headers only).</summary>
    private static void Buffer(PartitionFetcher fetcher, ReadOnlyMemory<byte> records)
    {
        if (records.IsEmpty) return;
        var position = 0;
        var last = -1L;
        while (RecordBatch.TryReadNext(records, ref position, out _, out var header)) last = header.LastOffset;
        if (last < fetcher.FetchOffset) return;
        fetcher.Buffered.Enqueue(records);
        fetcher.BufferedBytes += records.Length;
        fetcher.FetchOffset = last + 1;
    }

    /// <summary>Issues the partition's next request unless one is in flight, it has an error, or its buffer is full.</summary>
    private void MaybeFetch(PartitionFetcher fetcher)
    {
        if (fetcher.Detached || fetcher.Outstanding || fetcher.Error is not null || _disposed != 0) return;
        IBrokerRequest request;
        if (!fetcher.IsResolved)
        {
            request = new ListOffsetsRequest(fetcher.Topic, fetcher.Partition, fetcher.Position);
        }
        else
        {
            if (fetcher.BufferedBytes >= _config.FetchMaxBytes) return;
            request = new FetchRequest(fetcher.Topic, fetcher.Partition, fetcher.FetchOffset, _config.FetchMaxBytes, _config.FetchMaxWaitMs)
            {
                CurrentLeaderEpoch = fetcher.LeaderEpoch,
                ClientRack = _config.ClientRack,
            };
        }
        fetcher.Outstanding = true;
        var generation = fetcher.Generation;
        var reply = request is FetchRequest
            ? Untyped(_transport.RequestAsync<FetchResponse>(request, idempotent: true, _stopping.Token))
            : Untyped(_transport.RequestAsync<ListOffsetsResponse>(request, idempotent: true, _stopping.Token));
        reply.ContinueWith(task =>
        {
            _completions.Enqueue(task.IsCompletedSuccessfully
                ? new FetchCompletion(fetcher, generation, task.Result, null)
                : new FetchCompletion(fetcher, generation, null, task.Exception?.InnerException ?? new OperationCanceledException()));
            _signal.Release();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static async Task<object> Untyped<T>(Task<T> task) where T : class => await task.ConfigureAwait(false);

    private PartitionFetcher Assigned(TopicPartition tp) =>
        _fetchers.TryGetValue(tp, out var fetcher) ? fetcher : throw new InvalidOperationException($"{tp} is not assigned to this consumer; Assign it first");

    private static void CheckOffset(TopicPartitionOffset tpo)
    {
        ArgumentNullException.ThrowIfNull(tpo.Topic);
        if (tpo.Partition < 0) throw new ArgumentOutOfRangeException(nameof(tpo), $"partition {tpo.Partition} of {tpo.Topic} does not exist: partitions are numbered from 0");
        if (tpo.Offset < 0 && tpo.Offset is not (Offset.Beginning or Offset.End))
            throw new ArgumentOutOfRangeException(nameof(tpo), $"offset {tpo.Offset} is invalid: use 0 or more, Offset.Beginning or Offset.End");
    }

    private static ConsumerConfig Validate(ConsumerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        ValidateGroupSettings(config);
        if (config.FetchMaxBytes < 1) throw new BrokerException(ErrorCode.InvalidConfig, $"FetchMaxBytes must be positive, got {config.FetchMaxBytes}");
        if (config.FetchMaxWaitMs < 0) throw new BrokerException(ErrorCode.InvalidConfig, $"FetchMaxWaitMs must be 0 or more, got {config.FetchMaxWaitMs}");
        if (config.FetchMaxWaitMs >= config.RequestTimeout.TotalMilliseconds)
            throw new BrokerException(ErrorCode.InvalidConfig, $"FetchMaxWaitMs ({config.FetchMaxWaitMs}) must be shorter than RequestTimeout ({config.RequestTimeout.TotalMilliseconds} ms)");
        return config;
    }

    /// <summary>Disposes without committing; a subscribed consumer still leaves its group (best effort). Use <see cref="Close"/> to commit first.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        LeaveGroupQuietly();
        _stopping.Cancel();
        _signal.Release(); // wakes a Consume blocked on another thread, which then throws ObjectDisposedException
        _transport.Dispose();
    }

    /// <summary>As <see cref="Dispose"/> (no commit; a subscribed consumer leaves its group, best effort), without blocking the calling thread.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        LeaveGroupQuietly();
        _stopping.Cancel();
        _signal.Release();
        await _transport.DisposeAsync().ConfigureAwait(false);
    }
}
