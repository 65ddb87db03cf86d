using Broker.Protocol;

namespace Broker.Server.Groups.Assignment;

/// <summary>
/// Kafka's <c>roundrobin</c> strategy: every subscribed partition, ordered by topic then partition, is
/// dealt to the members in turn (member id order, wrapping round), passing over members not subscribed
/// to the partition's topic.
/// </summary>
/// <remarks>
/// When every member subscribes to the same topics, counts differ by at most one across the whole
/// group. With different subscriptions that no longer holds: a member that is passed over does not get
/// its turn back.
/// </remarks>
public sealed class RoundRobinAssignor : IPartitionAssignor
{
    /// <inheritdoc />
    public string Name => Wellknown.RoundRobinAssignor;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> Assign(
        IReadOnlyList<AssignmentMember> members, IReadOnlyDictionary<string, int> partitionCounts)
    {
        var snapshot = SubscriptionSnapshot.From(members, partitionCounts);
        var result = new AssignmentBuilder(snapshot.MemberIds);
        var ids = snapshot.MemberIds;

        // The turn carries over from partition to partition and from topic to topic, as Kafka's circular iterator does.
        int turn = 0;
        foreach (var partition in snapshot.AllPartitions())
        {
            // Terminates: a topic is only in the snapshot if someone subscribes to it.
            while (!snapshot.TopicsOf(ids[turn]).Contains(partition.Topic))
                turn = (turn + 1) % ids.Count;
            result.Add(ids[turn], partition);
            turn = (turn + 1) % ids.Count;
        }

        return result.Build();
    }
}
