using Broker.Protocol;

namespace Broker.Server.Groups.Assignment;

/// <summary>
/// Evens out a mixed-subscription assignment. A move takes one partition from a member A to a member B
/// with at least two fewer, either directly (B subscribes to a topic A holds) or along a chain A, X, ...,
/// B in which each member passes one partition to the next, so only A and B change counts. Each move
/// lowers the sum of squared counts; when no move is left, no assignment of the same partitions to the
/// same subscriptions has a lower sum (the residual-path condition of convex-cost flow), so it is as
/// balanced as the subscriptions allow. In particular, members with equal subscriptions end within one.
/// </summary>
internal static class BalancingChains
{
    public static void Balance(SubscriptionSnapshot snapshot, StickyHoldings holdings)
    {
        while (TryMoveOne(snapshot, holdings))
        {
        }
    }

    /// <summary>
    /// Tries target levels from the lightest up: searches backwards from every member at or below the
    /// level for members that could pass them a partition, and moves one from the heaviest found that is at
    /// least two above the level. Searching backwards from all light members at once costs one pass over the
    /// subscriptions per level, where searching forwards would cost one per heavy member.
    /// </summary>
    private static bool TryMoveOne(SubscriptionSnapshot snapshot, StickyHoldings holdings)
    {
        var holders = Holders(snapshot, holdings);
        var levels = snapshot.MemberIds.Select(holdings.Count).Distinct().Order().ToArray();
        foreach (int level in levels)
        {
            if (level + 2 > levels[^1])
                return false;
            var towardTarget = SearchBack(snapshot, holdings, holders, level);
            string? source = null;
            foreach (var member in snapshot.MemberIds)
            {
                if (towardTarget.ContainsKey(member)
                    && holdings.Count(member) >= level + 2
                    && (source is null
                        || holdings.Count(member) > holdings.Count(source)
                        || (holdings.Count(member) == holdings.Count(source) && string.CompareOrdinal(member, source) < 0)))
                {
                    source = member;
                }
            }

            if (source is null)
                continue;

            // Choose every hop's partition before moving any, so each member passes on one it held before.
            var moves = new List<(string From, string To, TopicPartition Partition)>();
            for (var member = source; towardTarget[member] is (string to, string topic); member = to)
                moves.Add((member, to, holdings.BestToPass(member, to, topic)));
            foreach (var (from, to, partition) in moves)
                holdings.Move(from, to, partition);
            return true;
        }
        return false;
    }

    /// <summary>
    /// Breadth-first backwards from every member with at most <paramref name="level"/> partitions over
    /// "X holds a partition of a topic Y subscribes to". Maps each member reached to the next member on
    /// its shortest chain and the topic it passes there; the starting members map to (null, null).
    /// </summary>
    private static Dictionary<string, (string? To, string? Topic)> SearchBack(
        SubscriptionSnapshot snapshot, StickyHoldings holdings, Dictionary<string, List<string>> holders, int level)
    {
        var towardTarget = new Dictionary<string, (string? To, string? Topic)>(StringComparer.Ordinal);
        var queue = new Queue<string>();
        foreach (var id in snapshot.MemberIds)
        {
            if (holdings.Count(id) <= level)
            {
                towardTarget[id] = (null, null);
                queue.Enqueue(id);
            }
        }

        // A topic's holders are all reached the first time any subscriber of it is expanded.
        var expandedTopics = new HashSet<string>(StringComparer.Ordinal);
        while (queue.TryDequeue(out var member))
        {
            foreach (var topic in snapshot.TopicsOf(member))
            {
                if (!expandedTopics.Add(topic) || !holders.TryGetValue(topic, out var topicHolders))
                    continue;
                foreach (var holder in topicHolders)
                {
                    if (towardTarget.TryAdd(holder, (member, topic)))
                        queue.Enqueue(holder);
                }
            }
        }

        return towardTarget;
    }

    /// <summary>Members holding at least one partition of each topic, in member id order.</summary>
    private static Dictionary<string, List<string>> Holders(SubscriptionSnapshot snapshot, StickyHoldings holdings)
    {
        var holders = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var id in snapshot.MemberIds)
        {
            foreach (var (topic, partitions) in holdings.Held(id))
            {
                if (partitions.Count > 0)
                {
                    if (!holders.TryGetValue(topic, out var list))
                        holders[topic] = list = [];
                    list.Add(id);
                }
            }
        }

        return holders;
    }
}
