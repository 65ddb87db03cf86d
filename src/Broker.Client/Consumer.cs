using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Broker.Client.Internal;

namespace Broker.Client;

/// <summary>
/// Reads records from assigned partitions. Each assigned partition has one fetch outstanding at all
/// times (prefetch), decoded off the caller's thread into a bounded buffer; <see cref="Consume(TimeSpan)"/>
/// hands out records in offset order per partition. Not thread-safe: use it from one thread at a time.
/// </summary>
public sealed class Consumer : IDisposable, IAsyncDisposable
{
    private const int BufferedChunks = 64;
    private readonly ConsumerConfig _config;
    private readonly GatewayConnection _connection;
    private readonly Channel<FetchedChunk> _chunks = Channel.CreateBounded<FetchedChunk>(new BoundedChannelOptions(BufferedChunks) { SingleReader = true });
    private readonly Dictionary<TopicPartition, PartitionFetcher> _fetchers = new();
    private readonly Dictionary<TopicPartition, long> _positions = new();
    private FetchedChunk? _current;
    private int _index;
    private int _generation;
    private int _disposed;

    /// <summary>Creates a consumer; it connects on the first Assign.</summary>
    public Consumer(ConsumerConfig config)
    {
        _config = config;
        _connection = new GatewayConnection(config);
    }

    /// <summary>The partitions assigned now.</summary>
    public IReadOnlyList<TopicPartition> Assignment => _fetchers.Keys.ToList();

    /// <summary>Starts reading the given partitions from the given offsets (or <see cref="Offset.Beginning"/> / <see cref="Offset.End"/>), replacing any earlier assignment.</summary>
    public void Assign(IEnumerable<TopicPartitionOffset> partitions)
    {
        Unassign();
        foreach (var tpo in partitions) Start(tpo);
    }

    /// <summary>Stops reading every partition.</summary>
    public void Unassign()
    {
        foreach (var fetcher in _fetchers.Values) fetcher.Stop();
        _fetchers.Clear();
        _positions.Clear();
        _current = null;
    }

    /// <summary>Moves an assigned partition to a new position; records already fetched past it are dropped.</summary>
    public void Seek(TopicPartitionOffset tpo)
    {
        if (!_fetchers.Remove(tpo.TopicPartition, out var old))
            throw new InvalidOperationException($"{tpo.TopicPartition} is not assigned; Assign it before seeking");
        old.Stop();
        Start(tpo);
        if (_current is not null && _current.Partition == tpo.TopicPartition) _current = null;
    }

    /// <summary>The offset of the next record Consume will return for the partition (-2/-1 until resolved).</summary>
    public long Position(TopicPartition tp) =>
        _positions.TryGetValue(tp, out var position) ? position : throw new InvalidOperationException($"{tp} is not assigned");

    /// <summary>The next record, or null if none arrived within <paramref name="timeout"/>. Throws BrokerException when a partition fails (e.g. OffsetOutOfRange).</summary>
    public ConsumeResult? Consume(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return Consume(cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>The next record, waiting until one arrives or <paramref name="ct"/> is cancelled (then OperationCanceledException).</summary>
    public ConsumeResult? Consume(CancellationToken ct)
    {
        while (true)
        {
            if (TryTakeBuffered(out var record)) return record;
            if (_chunks.Reader.TryRead(out var chunk))
            {
                Accept(chunk);
                continue;
            }
            var wait = _chunks.Reader.WaitToReadAsync(ct);
            if (!(wait.IsCompleted ? wait.Result : wait.AsTask().GetAwaiter().GetResult())) return null;
        }
    }

    /// <summary>Records as they arrive, until <paramref name="ct"/> is cancelled.</summary>
    public async IAsyncEnumerable<ConsumeResult> ConsumeAllAsync([EnumeratorCancellation] CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            if (TryTakeBuffered(out var record))
            {
                yield return record;
                continue;
            }
            FetchedChunk chunk;
            try
            {
                chunk = await _chunks.Reader.ReadAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
            Accept(chunk);
        }
    }

    private void Start(TopicPartitionOffset tpo)
    {
        var tp = tpo.TopicPartition;
        _positions[tp] = tpo.Offset;
        _fetchers[tp] = new PartitionFetcher(_connection, _config, tp, tpo.Offset, ++_generation, _chunks.Writer);
    }

    /// <summary>Takes a chunk from the channel if it belongs to the current fetcher of its partition; surfaces its error.</summary>
    private void Accept(FetchedChunk chunk)
    {
        if (!_fetchers.TryGetValue(chunk.Partition, out var fetcher) || fetcher.Generation != chunk.Generation) return;
        if (chunk.Error is not null)
        {
            _fetchers.Remove(chunk.Partition);
            throw chunk.Error;
        }
        _current = chunk;
        _index = 0;
    }

    private bool TryTakeBuffered(out ConsumeResult record)
    {
        var chunk = _current;
        if (chunk is null || _index >= chunk.Records.Length || !_fetchers.TryGetValue(chunk.Partition, out var fetcher) || fetcher.Generation != chunk.Generation)
        {
            _current = null;
            record = null!;
            return false;
        }
        record = chunk.Records[_index++];
        _positions[chunk.Partition] = record.Offset + 1;
        return true;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        Unassign();
        _connection.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
