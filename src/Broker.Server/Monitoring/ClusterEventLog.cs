namespace Broker.Server.Monitoring;

/// <summary>One thing that happened between two snapshots, in words: "node 2 unreachable", "orders/3 leader 2 → 1, epoch 5".</summary>
public sealed record ClusterChange(long Sequence, DateTimeOffset At, string Subject, string Text);

/// <summary>
/// The event feed: what changed between successive snapshots, as short sentences, and the most recent of them.
/// The rules (which differences are worth a line, and how they read) live here, apart from the actor and the
/// views that show them, so they are tested with a fake clock. The first snapshot only sets the baseline: a
/// watcher that starts sees the state, not a burst of "joined" lines. Not thread-safe: one owner observes.
/// </summary>
public sealed class ClusterEventLog(TimeProvider clock, int capacity = 200)
{
    private readonly LinkedList<ClusterChange> _recent = new();
    private ClusterSnapshot? _last;
    private long _sequence;

    /// <summary>The newest changes, oldest first, at most <c>capacity</c>.</summary>
    public IReadOnlyList<ClusterChange> Recent => [.. _recent];

    /// <summary>Compares <paramref name="next"/> with the previous snapshot; returns the new changes (also kept in <see cref="Recent"/>).</summary>
    public IReadOnlyList<ClusterChange> Observe(ClusterSnapshot next)
    {
        var previous = _last;
        _last = next;
        if (previous is null) return [];
        var texts = new List<(string Subject, string Text)>();
        Nodes(previous, next, texts);
        Partitions(previous, next, texts);
        Groups(previous, next, texts);
        var now = clock.GetUtcNow();
        var changes = new List<ClusterChange>(texts.Count);
        foreach (var (subject, text) in texts)
        {
            var change = new ClusterChange(++_sequence, now, subject, text);
            changes.Add(change);
            _recent.AddLast(change);
            if (_recent.Count > capacity) _recent.RemoveFirst();
        }
        return changes;
    }

    private static void Nodes(ClusterSnapshot previous, ClusterSnapshot next, List<(string, string)> texts)
    {
        var before = previous.Nodes.ToDictionary(n => n.Id);
        var after = next.Nodes.ToDictionary(n => n.Id);
        foreach (var n in next.Nodes)
        {
            var subject = $"node {n.Id}";
            if (!before.TryGetValue(n.Id, out var was))
            {
                texts.Add((subject, $"node {n.Id} joined ({n.State}) at {n.Address}"));
            }
            else if (was.State != n.State)
            {
                texts.Add((subject, n.State switch
                {
                    NodeView.Unreachable => $"node {n.Id} unreachable",
                    NodeView.Down => $"node {n.Id} down (removed from the cluster)",
                    "Up" when was.State == NodeView.Unreachable => $"node {n.Id} reachable again",
                    "Up" when was.State == NodeView.Down => $"node {n.Id} back up at {n.Address}",
                    "Up" => $"node {n.Id} up",
                    _ => $"node {n.Id} {n.State} (was {was.State})",
                }));
            }
        }
        foreach (var n in previous.Nodes)
            if (!after.ContainsKey(n.Id)) texts.Add(($"node {n.Id}", $"node {n.Id} left the cluster"));
    }

    private static void Partitions(ClusterSnapshot previous, ClusterSnapshot next, List<(string, string)> texts)
    {
        var before = previous.Partitions.ToDictionary(p => (p.Topic, p.Partition));
        var topicsBefore = previous.Partitions.Select(p => p.Topic).ToHashSet();
        var topicsAfter = next.Partitions.Select(p => p.Topic).ToHashSet();
        foreach (var t in next.Partitions.Select(p => p.Topic).Distinct())
            if (!topicsBefore.Contains(t)) texts.Add(($"topic {t}", $"topic {t} created ({next.Partitions.Count(p => p.Topic == t)} partitions)"));
        foreach (var t in previous.Partitions.Select(p => p.Topic).Distinct())
            if (!topicsAfter.Contains(t)) texts.Add(($"topic {t}", $"topic {t} deleted"));

        // ISR changes read best per node ("node 2 back in ISR of orders/0, orders/3"): a node coming back rejoins many at once.
        var left = new SortedDictionary<int, List<string>>();
        var joined = new SortedDictionary<int, List<string>>();
        foreach (var p in next.Partitions)
        {
            if (!before.TryGetValue((p.Topic, p.Partition), out var was)) continue;
            if (p.Leader != was.Leader)
            {
                texts.Add((p.Name, p.Leader <= 0
                    ? $"{p.Name} has no leader (was node {was.Leader})"
                    : was.Leader <= 0 ? $"{p.Name} leader {p.Leader}, epoch {p.LeaderEpoch}"
                    : $"{p.Name} leader {was.Leader} → {p.Leader}, epoch {p.LeaderEpoch}"));
            }
            else if (p.LeaderEpoch > was.LeaderEpoch && p.Leader > 0)
            {
                texts.Add((p.Name, $"{p.Name} leader {p.Leader} re-elected, epoch {p.LeaderEpoch}"));
            }
            if (!p.Replicas.SequenceEqual(was.Replicas))
                texts.Add((p.Name, $"{p.Name} replicas {string.Join(",", was.Replicas)} → {string.Join(",", p.Replicas)}"));
            foreach (var id in was.Isr)
                if (!p.Isr.Contains(id)) Add(left, id, p.Name);
            foreach (var id in p.Isr)
                if (!was.Isr.Contains(id)) Add(joined, id, p.Name);
        }
        foreach (var (id, names) in left) texts.Add(($"node {id}", $"node {id} left ISR of {string.Join(", ", names)}"));
        foreach (var (id, names) in joined) texts.Add(($"node {id}", $"node {id} back in ISR of {string.Join(", ", names)}"));
    }

    private static void Add(SortedDictionary<int, List<string>> byNode, int id, string name)
    {
        if (!byNode.TryGetValue(id, out var list)) byNode[id] = list = [];
        list.Add(name);
    }

    private static void Groups(ClusterSnapshot previous, ClusterSnapshot next, List<(string, string)> texts)
    {
        var before = previous.Groups.ToDictionary(g => g.GroupId, StringComparer.Ordinal);
        var after = next.Groups.Select(g => g.GroupId).ToHashSet(StringComparer.Ordinal);
        foreach (var g in next.Groups)
        {
            var subject = $"group {g.GroupId}";
            if (!before.TryGetValue(g.GroupId, out var was))
            {
                texts.Add((subject, $"group {g.GroupId} appeared ({g.State}, {g.Members.Count} members)"));
                continue;
            }
            if (g.Generation != was.Generation)
            {
                var oldIds = was.Members.Select(m => m.MemberId).ToHashSet(StringComparer.Ordinal);
                var newIds = g.Members.Select(m => m.MemberId).ToHashSet(StringComparer.Ordinal);
                var came = newIds.Count(id => !oldIds.Contains(id));
                var went = oldIds.Count(id => !newIds.Contains(id));
                texts.Add((subject, $"group {g.GroupId} rebalanced: generation {was.Generation} → {g.Generation}, {g.Members.Count} members (+{came} -{went})"));
            }
            else if (g.State != was.State)
            {
                texts.Add((subject, $"group {g.GroupId} {g.State} (was {was.State})"));
            }
        }
        foreach (var g in previous.Groups)
            if (!after.Contains(g.GroupId)) texts.Add(($"group {g.GroupId}", $"group {g.GroupId} gone"));
    }
}
