using Broker.Protocol;

namespace Broker.Server.Groups.Assignment;

/// <summary>
/// Kafka's <c>range</c> strategy: topic by topic, the topic's subscribers (in member id order) each take
/// one contiguous range of its partitions, the first <c>partitions % subscribers</c> of them one more.
/// </summary>
/// <remarks>
/// Members reading several topics with the same partition count get the same partition numbers of each,
/// which is what joins of co-partitioned topics want. The price is balance across topics: every topic's
/// remainder goes to the same first members, so two members reading three one-partition topics end up
/// with three and none. Each topic on its own is balanced to within one partition.
/// </remarks>
public sealed class RangeAssignor : IPartitionAssignor
{
    /// <inheritdoc />
    public string Name => Wellknown.RangeAssignor;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> Assign(
        IReadOnlyList<AssignmentMember> members, IReadOnlyDictionary<string, int> partitionCounts)
    {
        var snapshot = SubscriptionSnapshot.From(members, partitionCounts);
        var result = new AssignmentBuilder(snapshot.MemberIds);

        foreach (var topic in snapshot.Topics)
        {
            var subscribers = snapshot.SubscribersOf(topic);
            int partitions = snapshot.PartitionCount(topic);
            int perMember = partitions / subscribers.Count;
            int withExtra = partitions % subscribers.Count;

            int next = 0;
            for (int i = 0; i < subscribers.Count; i++)
            {
                int end = next + perMember + (i < withExtra ? 1 : 0);
                for (; next < end; next++)
                    result.Add(subscribers[i], new TopicPartition(topic, next));
            }
        }

        return result.Build();
    }
}
