using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Server.Kafka;

/// <summary>
/// One connection's long-poll fetches still parked at partitions, by topic, partition and offset. A fetch that
/// answers as soon as one partition has data leaves the others' waits running; the connection's next fetch at
/// the same offsets takes them over instead of parking more, so a consumer keeps at most one wait per partition
/// (not one per fetch, each answered with data that nobody reads), and data that arrived in between is used.
/// </summary>
internal sealed class ParkedFetches
{
    private readonly Dictionary<(string Topic, int Partition, long Offset), Task<FetchResponse>> _parked = [];
    private readonly Lock _lock = new();

    /// <summary>The wait parked for this offset, unless it ended empty (its max wait passed): then a new one from <paramref name="park"/>.</summary>
    public Task<FetchResponse> GetOrPark(string topic, int partition, long offset, Func<Task<FetchResponse>> park)
    {
        var key = (topic, partition, offset);
        lock (_lock)
        {
            if (_parked.TryGetValue(key, out var parked) && !EndedEmpty(parked)) return parked;
            parked = park();
            _parked[key] = parked;
            return parked;
        }
    }

    /// <summary>Its answer went to the client: the next fetch there is at a later offset, or must ask afresh.</summary>
    public void Used(string topic, int partition, long offset)
    {
        lock (_lock) _parked.Remove((topic, partition, offset));
    }

    /// <summary>Drops ended waits at offsets this fetch does not ask for (the client moved on, or lost the partition).</summary>
    public void Prune(IReadOnlyList<(string Topic, int Partition, long Offset)> wanted)
    {
        lock (_lock)
        {
            List<(string, int, long)>? ended = null;
            foreach (var (key, task) in _parked)
                if (task.IsCompleted && !wanted.Contains(key)) (ended ??= []).Add(key);
            if (ended is null) return;
            foreach (var key in ended) _parked.Remove(key);
        }
    }

    private static bool EndedEmpty(Task<FetchResponse> task) =>
        task.IsCompleted && (!task.IsCompletedSuccessfully || (task.Result.Error == ErrorCode.None && task.Result.Records.IsEmpty));
}
