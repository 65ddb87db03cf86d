using Broker.Protocol;

namespace Broker.Server.Groups.Assignment;

/// <summary>
/// What the sticky assignor may try to keep: each member's previously owned partitions, minus claims it
/// can no longer have (topic unsubscribed or gone, partition out of range), with every partition
/// claimed by at most one member.
/// </summary>
internal static class PriorOwnership
{
    /// <summary>
    /// Each member's valid claims, sorted by topic then partition (empty lists included). A partition
    /// claimed by several members, which stale member data can produce, goes to the first of them in
    /// member id order: without generation numbers there is no telling which claim is current, and a
    /// fixed rule keeps the result deterministic.
    /// </summary>
    public static Dictionary<string, List<TopicPartition>> Resolve(SubscriptionSnapshot snapshot)
    {
        var claimed = new HashSet<TopicPartition>();
        var owned = new Dictionary<string, List<TopicPartition>>(StringComparer.Ordinal);
        foreach (var id in snapshot.MemberIds)
        {
            var claims = snapshot.Members[id].Owned.ToArray();
            Array.Sort(claims);
            var kept = new List<TopicPartition>();
            foreach (var partition in claims)
            {
                if (snapshot.CanOwn(id, partition) && claimed.Add(partition))
                    kept.Add(partition);
            }

            owned[id] = kept;
        }
        return owned;
    }
}
