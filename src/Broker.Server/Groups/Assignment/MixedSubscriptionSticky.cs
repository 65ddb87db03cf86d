using Broker.Protocol;

namespace Broker.Server.Groups.Assignment;

/// <summary>
/// The sticky assignment when members subscribe to different topics, where no quota can be worked out
/// up front. It keeps every valid owned partition, gives each unowned partition to the least loaded
/// member that may have it, evens the counts out (<see cref="BalancingChains"/>), then sends partitions
/// back to previous owners wherever that keeps the balance (<see cref="StickinessCycles"/>). The result
/// is as balanced as the subscriptions allow and, among such assignments, moves the fewest partitions.
/// </summary>
internal static class MixedSubscriptionSticky
{
    public static IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> Assign(
        SubscriptionSnapshot snapshot, Dictionary<string, List<TopicPartition>> owned)
    {
        var holdings = new StickyHoldings(snapshot, owned);
        foreach (var id in snapshot.MemberIds)
        {
            foreach (var partition in owned[id])
                holdings.Give(id, partition);
        }

        PlaceUnowned(snapshot, holdings);
        BalancingChains.Balance(snapshot, holdings);
        StickinessCycles.ReturnOwned(snapshot, holdings);
        return holdings.Build();
    }

    private static void PlaceUnowned(SubscriptionSnapshot snapshot, StickyHoldings holdings)
    {
        // Partitions with the fewest possible members go first, while those members still have room;
        // the better this first placement, the less the later steps have to move.
        var unowned = new List<TopicPartition>();
        foreach (var partition in snapshot.AllPartitions())
        {
            if (holdings.PreviousOwner(partition) is null)
                unowned.Add(partition);
        }

        unowned.Sort((a, b) =>
        {
            int byChoice = snapshot.SubscribersOf(a.Topic).Count.CompareTo(snapshot.SubscribersOf(b.Topic).Count);
            return byChoice != 0 ? byChoice : a.CompareTo(b);
        });

        foreach (var partition in unowned)
        {
            string? lightest = null;
            foreach (var id in snapshot.SubscribersOf(partition.Topic))
            {
                if (lightest is null || holdings.Count(id) < holdings.Count(lightest))
                    lightest = id;
            }

            holdings.Give(lightest!, partition);
        }
    }
}
