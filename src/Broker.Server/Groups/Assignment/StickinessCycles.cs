using Broker.Protocol;

namespace Broker.Server.Groups.Assignment;

/// <summary>
/// Sends partitions back to their previous owners where balance allows, after <see cref="BalancingChains"/>.
/// </summary>
/// <remarks>
/// <para>
/// Think of the assignment as a flow of partitions to members whose cost is, first, the sum of squared
/// counts and, second, the number of partitions away from their previous owner. Balancing leaves the
/// first at its minimum; this step looks for a set of moves that keeps the first and lowers the second.
/// Such a set is a negative cycle in a graph of moves weighted by what they do to the second cost: -1
/// when a partition goes home, 0 when it belonged to neither member, +1 when it leaves home. A cycle of
/// moves passes partitions round without changing any count. To also allow moves that end on another
/// member, there is a node per count level c: a member with c - 1 partitions may enter it and one with c
/// may leave it, since one partition passing from the second to the first swaps their counts and so
/// keeps the sum of squares.
/// </para>
/// <para>
/// Moves go through a node per topic (X to topic t if X holds a partition of t, t to any subscriber),
/// which keeps the graph linear in the subscriptions rather than quadratic in the members; the -1 moves,
/// one per partition away from home, are direct edges. Bellman-Ford finds a negative cycle if there is
/// one; each cycle applied lowers the number of moved partitions, and when none is left the assignment
/// keeps the most owned partitions of any equally balanced assignment (a flow is optimal when its
/// residual graph has no negative cycle).
/// </para>
/// </remarks>
internal static class StickinessCycles
{
    /// <summary>An edge of the move graph. <paramref name="Topic"/> is set on edges that move a partition of it.</summary>
    private readonly record struct Edge(int From, int To, int Cost, string? Topic);

    public static void ReturnOwned(SubscriptionSnapshot snapshot, StickyHoldings holdings)
    {
        while (TryApplyOne(snapshot, holdings))
        {
        }
    }

    private static bool TryApplyOne(SubscriptionSnapshot snapshot, StickyHoldings holdings)
    {
        var graph = new MoveGraph(snapshot, holdings);
        var cycle = FindNegativeCycle(graph.Edges, graph.NodeCount);
        if (cycle is null)
            return false;

        // Choose every partition before moving any, so each member passes on one it held before.
        var ids = snapshot.MemberIds;
        var moves = new List<(string From, string To, TopicPartition Partition)>();
        int cost = 0;
        for (int i = 0; i < cycle.Count; i++)
        {
            var edge = cycle[i];
            if (edge.Topic is null || !graph.IsMember(edge.To))
                continue;
            // A move through a topic node starts at the member before it on the cycle.
            int from = graph.IsMember(edge.From) ? edge.From : cycle[(i + cycle.Count - 1) % cycle.Count].From;
            var partition = holdings.BestToPass(ids[from], ids[edge.To], edge.Topic);
            moves.Add((ids[from], ids[edge.To], partition));
            cost += holdings.MoveCost(partition, ids[from], ids[edge.To]);
        }
        // Anything else would loop forever; it would be a bug in the graph, not a property of the input.
        if (cost >= 0)
            throw new InvalidOperationException($"Sticky assignment found a cycle that does not lower the moved count (cost {cost}).");

        foreach (var (from, to, partition) in moves)
            holdings.Move(from, to, partition);
        return true;
    }

    /// <summary>Nodes: members (by index in member id order), then topics, then count levels.</summary>
    private sealed class MoveGraph
    {
        private readonly int _members;

        public MoveGraph(SubscriptionSnapshot snapshot, StickyHoldings holdings)
        {
            var ids = snapshot.MemberIds;
            _members = ids.Count;
            var memberIndex = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < ids.Count; i++)
                memberIndex[ids[i]] = i;
            var topicIndex = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var topic in snapshot.Topics)
                topicIndex[topic] = _members + topicIndex.Count;

            foreach (var topic in snapshot.Topics)
            {
                foreach (var subscriber in snapshot.SubscribersOf(topic))
                    Edges.Add(new Edge(topicIndex[topic], memberIndex[subscriber], 0, topic));
            }

            for (int from = 0; from < ids.Count; from++)
            {
                foreach (var (topic, partitions) in holdings.Held(ids[from]))
                {
                    if (partitions.Count == 0)
                        continue;
                    bool anyNotOwnedByHolder = false;
                    var homes = new SortedSet<string>(StringComparer.Ordinal);
                    foreach (int p in partitions)
                    {
                        var previous = holdings.PreviousOwner(new TopicPartition(topic, p));
                        if (previous == ids[from])
                            continue;
                        anyNotOwnedByHolder = true;
                        if (previous is not null)
                            homes.Add(previous);
                    }
                    Edges.Add(new Edge(from, topicIndex[topic], anyNotOwnedByHolder ? 0 : 1, null));
                    foreach (var home in homes)
                        Edges.Add(new Edge(from, memberIndex[home], -1, topic));
                }
            }

            // Count levels: a member with count c - 1 enters level c, and a member with count c leaves it.
            int firstLevel = _members + topicIndex.Count;
            var levels = new Dictionary<int, int>();
            foreach (var id in ids)
                levels.TryAdd(holdings.Count(id), firstLevel + levels.Count);
            for (int i = 0; i < ids.Count; i++)
            {
                int count = holdings.Count(ids[i]);
                if (levels.TryGetValue(count + 1, out int up))
                    Edges.Add(new Edge(i, up, 0, null));
                Edges.Add(new Edge(levels[count], i, 0, null));
            }

            NodeCount = firstLevel + levels.Count;
        }

        public List<Edge> Edges { get; } = [];

        public int NodeCount { get; }

        public bool IsMember(int node) => node < _members;
    }

    /// <summary>Bellman-Ford from every node at once; the edges of a negative cycle in order, or null.</summary>
    private static List<Edge>? FindNegativeCycle(List<Edge> edges, int nodes)
    {
        var distance = new int[nodes];
        var via = new int[nodes];
        Array.Fill(via, -1);

        int relaxed = -1;
        for (int pass = 0; pass < nodes; pass++)
        {
            relaxed = -1;
            for (int e = 0; e < edges.Count; e++)
            {
                var edge = edges[e];
                if (distance[edge.From] + edge.Cost < distance[edge.To])
                {
                    distance[edge.To] = distance[edge.From] + edge.Cost;
                    via[edge.To] = e;
                    relaxed = edge.To;
                }
            }
            if (relaxed < 0)
                return null;
        }

        // Still relaxing after |nodes| passes: walking back |nodes| steps lands on the cycle.
        int onCycle = relaxed;
        for (int i = 0; i < nodes; i++)
            onCycle = edges[via[onCycle]].From;

        var cycle = new List<Edge>();
        int node = onCycle;
        do
        {
            var edge = edges[via[node]];
            cycle.Add(edge);
            node = edge.From;
        } while (node != onCycle);
        cycle.Reverse();
        return cycle;
    }
}
