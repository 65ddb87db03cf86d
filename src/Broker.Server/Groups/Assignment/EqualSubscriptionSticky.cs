using Broker.Protocol;

namespace Broker.Server.Groups.Assignment;

/// <summary>
/// The sticky assignment when every member subscribes to the same topics. Here the balanced shape is
/// known up front (every member gets <c>total / members</c> partitions, <c>total % members</c> of them
/// one more), so the assignment can keep the most previously owned partitions any balanced assignment
/// could: each member keeps owned partitions up to its quota, and only the rest move.
/// </summary>
internal static class EqualSubscriptionSticky
{
    public static IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> Assign(
        SubscriptionSnapshot snapshot, Dictionary<string, List<TopicPartition>> owned)
    {
        var ids = snapshot.MemberIds;
        var result = new AssignmentBuilder(ids);
        if (ids.Count == 0)
            return result.Build();

        int minQuota = snapshot.TotalPartitions() / ids.Count;
        int extraSlots = snapshot.TotalPartitions() % ids.Count;

        // Keep owned partitions up to quota. A slot above minQuota saves a move only for a member that owned
        // more than minQuota, so those members get the extra slots first.
        var taken = new HashSet<TopicPartition>();
        foreach (var id in ids)
        {
            var mine = owned[id];
            int keep = Math.Min(mine.Count, minQuota);
            if (mine.Count > minQuota && extraSlots > 0)
            {
                keep = minQuota + 1;
                extraSlots--;
            }
            for (int i = 0; i < keep; i++)
            {
                result.Add(id, mine[i]);
                taken.Add(mine[i]);
            }
        }

        var free = new Queue<TopicPartition>();
        foreach (var partition in snapshot.AllPartitions())
        {
            if (!taken.Contains(partition))
                free.Enqueue(partition);
        }

        // Deal the free partitions round the members below minQuota, one at a time, so a fresh group gets
        // each topic spread across members rather than a block of one topic each.
        bool dealt = true;
        while (dealt)
        {
            dealt = false;
            foreach (var id in ids)
            {
                if (result.CountOf(id) < minQuota)
                {
                    result.Add(id, Take(free));
                    dealt = true;
                }
            }
        }

        // Whatever is left is exactly the unused extra slots, one each for members still at minQuota.
        foreach (var id in ids)
        {
            if (extraSlots > 0 && result.CountOf(id) == minQuota)
            {
                result.Add(id, Take(free));
                extraSlots--;
            }
        }

        if (free.Count > 0)
            throw new InvalidOperationException($"Sticky assignment left {free.Count} partitions unassigned.");
        return result.Build();
    }

    // Quotas add up to the partition count, so running out here is a bug, not an input to handle.
    private static TopicPartition Take(Queue<TopicPartition> free) =>
        free.TryDequeue(out var partition)
            ? partition
            : throw new InvalidOperationException("Sticky assignment ran out of partitions below quota.");
}
