using Broker.Protocol;

namespace Broker.Server.Groups.Assignment;

/// <summary>
/// The sticky assignment while it is being worked out for mixed subscriptions: who holds what now,
/// and who owned each partition before, so moves can tell a partition going home from one leaving.
/// </summary>
internal sealed class StickyHoldings
{
    private readonly SubscriptionSnapshot _snapshot;
    private readonly Dictionary<TopicPartition, string> _previousOwner = new();
    private readonly Dictionary<string, SortedDictionary<string, SortedSet<int>>> _held = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

    /// <summary>Starts from nothing held; <paramref name="owned"/> (already resolved) is only remembered.</summary>
    public StickyHoldings(SubscriptionSnapshot snapshot, Dictionary<string, List<TopicPartition>> owned)
    {
        _snapshot = snapshot;
        foreach (var id in snapshot.MemberIds)
        {
            _held[id] = new SortedDictionary<string, SortedSet<int>>(StringComparer.Ordinal);
            _counts[id] = 0;
            foreach (var partition in owned[id])
                _previousOwner[partition] = id;
        }
    }

    public string? PreviousOwner(TopicPartition partition) => _previousOwner.GetValueOrDefault(partition);

    public int Count(string memberId) => _counts[memberId];

    /// <summary>The member's partitions by topic, both in ascending order. Do not modify.</summary>
    public SortedDictionary<string, SortedSet<int>> Held(string memberId) => _held[memberId];

    public void Give(string memberId, TopicPartition partition)
    {
        var byTopic = _held[memberId];
        if (!byTopic.TryGetValue(partition.Topic, out var partitions))
            byTopic[partition.Topic] = partitions = [];
        partitions.Add(partition.Partition);
        _counts[memberId]++;
    }

    public void Move(string from, string to, TopicPartition partition)
    {
        if (!_held[from].TryGetValue(partition.Topic, out var partitions) || !partitions.Remove(partition.Partition))
            throw new InvalidOperationException($"Sticky assignment tried to move {partition} from {from}, which does not hold it.");
        _counts[from]--;
        Give(to, partition);
    }

    /// <summary>
    /// What moving a partition from <paramref name="from"/> to <paramref name="to"/> does to the number of
    /// partitions away from their previous owner: -1 it goes home, 0 neither owned it, +1 it leaves home.
    /// </summary>
    public int MoveCost(TopicPartition partition, string from, string to)
    {
        var previous = PreviousOwner(partition);
        return previous == to ? -1 : previous == from ? 1 : 0;
    }

    /// <summary>
    /// The partition of <paramref name="topic"/> that <paramref name="from"/> would best pass to
    /// <paramref name="to"/>: lowest <see cref="MoveCost"/>, then highest partition number.
    /// </summary>
    public TopicPartition BestToPass(string from, string to, string topic)
    {
        TopicPartition best = default;
        int bestCost = int.MaxValue;
        foreach (int p in _held[from][topic].Reverse())
        {
            var candidate = new TopicPartition(topic, p);
            int cost = MoveCost(candidate, from, to);
            if (cost < bestCost)
                (best, bestCost) = (candidate, cost);
            if (cost == -1)
                break;
        }
        return bestCost == int.MaxValue
            ? throw new InvalidOperationException($"Sticky assignment found no partition of {topic} held by {from}.")
            : best;
    }

    public IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> Build()
    {
        var result = new AssignmentBuilder(_snapshot.MemberIds);
        foreach (var (id, byTopic) in _held)
        {
            foreach (var (topic, partitions) in byTopic)
            {
                foreach (int p in partitions)
                    result.Add(id, new TopicPartition(topic, p));
            }
        }

        return result.Build();
    }
}
