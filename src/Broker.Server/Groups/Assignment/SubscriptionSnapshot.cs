using Broker.Protocol;

namespace Broker.Server.Groups.Assignment;

/// <summary>
/// An assignor's input, normalised once: members in ordinal id order, each subscription cut down to
/// topics that exist, and each topic's subscribers. Assignors read only this, so nothing they do can
/// depend on the order of the caller's lists or on dictionary enumeration order.
/// </summary>
internal sealed class SubscriptionSnapshot
{
    private readonly Dictionary<string, SortedSet<string>> _topicsByMember;
    private readonly Dictionary<string, string[]> _subscribersByTopic;
    private readonly Dictionary<string, int> _partitionCounts;

    private SubscriptionSnapshot(
        string[] memberIds,
        Dictionary<string, AssignmentMember> members,
        Dictionary<string, SortedSet<string>> topicsByMember,
        string[] topics,
        Dictionary<string, string[]> subscribersByTopic,
        Dictionary<string, int> partitionCounts)
    {
        MemberIds = memberIds;
        Members = members;
        _topicsByMember = topicsByMember;
        Topics = topics;
        _subscribersByTopic = subscribersByTopic;
        _partitionCounts = partitionCounts;
    }

    /// <summary>Member ids, ordinal order.</summary>
    public IReadOnlyList<string> MemberIds { get; }

    /// <summary>The caller's members by id.</summary>
    public IReadOnlyDictionary<string, AssignmentMember> Members { get; }

    /// <summary>Topics to assign: they exist, have partitions and at least one subscriber. Ordinal order.</summary>
    public IReadOnlyList<string> Topics { get; }

    /// <summary>Partitions in <paramref name="topic"/> (one of <see cref="Topics"/>).</summary>
    public int PartitionCount(string topic) => _partitionCounts[topic];

    /// <summary>Members subscribed to <paramref name="topic"/> (one of <see cref="Topics"/>), ordinal id order.</summary>
    public IReadOnlyList<string> SubscribersOf(string topic) => _subscribersByTopic[topic];

    /// <summary>The existing topics <paramref name="memberId"/> subscribes to.</summary>
    public IReadOnlySet<string> TopicsOf(string memberId) => _topicsByMember[memberId];

    /// <summary>Whether <paramref name="partition"/> exists and <paramref name="memberId"/> may be given it.</summary>
    public bool CanOwn(string memberId, TopicPartition partition) =>
        _topicsByMember[memberId].Contains(partition.Topic)
        && partition.Partition >= 0
        && partition.Partition < _partitionCounts[partition.Topic];

    /// <summary>Whether every member subscribes to the same existing topics (true for an empty group).</summary>
    public bool AllSubscriptionsEqual
    {
        get
        {
            for (int i = 1; i < MemberIds.Count; i++)
            {
                if (!_topicsByMember[MemberIds[i]].SetEquals(_topicsByMember[MemberIds[0]]))
                    return false;
            }

            return true;
        }
    }

    /// <summary>Every partition to assign, ordered by topic then partition.</summary>
    public IEnumerable<TopicPartition> AllPartitions()
    {
        foreach (var topic in Topics)
        {
            for (int p = 0; p < _partitionCounts[topic]; p++)
                yield return new TopicPartition(topic, p);
        }
    }

    public int TotalPartitions()
    {
        int total = 0;
        foreach (var topic in Topics)
            total += _partitionCounts[topic];
        return total;
    }

    public static SubscriptionSnapshot From(IReadOnlyList<AssignmentMember> members, IReadOnlyDictionary<string, int> partitionCounts)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(partitionCounts);

        var byId = new Dictionary<string, AssignmentMember>(StringComparer.Ordinal);
        var topicsByMember = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var subscribers = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var member in members)
        {
            ArgumentNullException.ThrowIfNull(member, nameof(members));
            if (!byId.TryAdd(member.MemberId, member))
                throw new ArgumentException($"Member id '{member.MemberId}' appears twice.", nameof(members));

            var topics = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var topic in member.Topics)
            {
                // A topic with no partitions has nothing to hand out; treating it as absent keeps it out of every count.
                if (partitionCounts.TryGetValue(topic, out int count) && count > 0)
                    topics.Add(topic);
            }

            topicsByMember[member.MemberId] = topics;
        }

        var memberIds = byId.Keys.ToArray();
        Array.Sort(memberIds, StringComparer.Ordinal);
        // Filling subscriber lists in sorted member order leaves each one sorted.
        foreach (var id in memberIds)
        {
            foreach (var topic in topicsByMember[id])
            {
                if (!subscribers.TryGetValue(topic, out var list))
                    subscribers[topic] = list = [];
                list.Add(id);
            }
        }

        var subscribersByTopic = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (topic, list) in subscribers)
        {
            subscribersByTopic[topic] = list.ToArray();
            counts[topic] = partitionCounts[topic];
        }

        return new SubscriptionSnapshot(memberIds, byId, topicsByMember, subscribers.Keys.ToArray(), subscribersByTopic, counts);
    }
}
