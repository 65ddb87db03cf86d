using Broker.Protocol;
using Broker.Protocol.Groups;
using Broker.Server.Groups.Assignment;

namespace Broker.Server.Groups;

/// <summary>
/// Picks a group's protocol and, for the "consumer" protocol type with one of our assignors, computes the
/// assignment on the coordinator (so a consumer never needs the whole group's metadata). Any other
/// protocol is left to the group leader, as in Kafka's classic protocol.
/// </summary>
internal static class GroupAssignmentPlanner
{
    /// <summary>
    /// The protocol every member supports that most members prefer (each votes for its first supported
    /// one, as Kafka does); ties go to the name that sorts first. Null if they share none.
    /// </summary>
    public static string? SelectProtocol(IReadOnlyCollection<GroupMember> members)
    {
        HashSet<string>? common = null;
        foreach (var member in members)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in member.Protocols) names.Add(p.Name);
            if (common is null) common = names;
            else common.IntersectWith(names);
        }
        if (common is null || common.Count == 0) return null;

        var votes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var member in members)
        {
            foreach (var p in member.Protocols)
            {
                if (!common.Contains(p.Name)) continue;
                votes[p.Name] = votes.GetValueOrDefault(p.Name) + 1;
                break;
            }
        }
        string? best = null;
        foreach (var (name, count) in votes)
        {
            if (best is null || count > votes[best] || (count == votes[best] && string.CompareOrdinal(name, best) < 0)) best = name;
        }
        return best;
    }

    public static bool AssignsOnServer(string protocolType, string protocol) =>
        protocolType == ConsumerProtocol.ProtocolType && PartitionAssignors.Find(protocol) is not null;

    /// <summary>Decodes every member's subscription; null if any member sent unreadable metadata.</summary>
    public static ConsumerSubscription? TryDecode(byte[] metadata)
    {
        try
        {
            return ConsumerProtocol.DecodeSubscription(metadata);
        }
        catch (Broker.Protocol.Serialization.WireFormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// Assigns the subscribed topics' partitions with the named assignor (every member gets a list, maybe
    /// empty). A member's previous partitions come from the coordinator's own record of the last generation
    /// (what it really owned), else from what the member claims, which is what lets the sticky assignor keep
    /// them in place.
    /// </summary>
    public static Dictionary<string, IReadOnlyList<TopicPartition>> Assign(
        string protocol,
        IReadOnlyList<GroupMember> members,
        IReadOnlyDictionary<string, int> partitionCounts)
    {
        var assignor = PartitionAssignors.Find(protocol) ?? throw new InvalidOperationException($"no assignor named {protocol}");
        var input = new List<AssignmentMember>(members.Count);
        foreach (var member in members)
        {
            var subscription = TryDecode(member.MetadataFor(protocol)) ?? new ConsumerSubscription([], []);
            var owned = member.Assignment.IsEmpty ? subscription.Owned : member.Assignment.Partitions;
            input.Add(new AssignmentMember(member.MemberId, subscription.Topics, owned));
        }

        var result = assignor.Assign(input, partitionCounts);
        var assignments = new Dictionary<string, IReadOnlyList<TopicPartition>>(StringComparer.Ordinal);
        foreach (var member in members) assignments[member.MemberId] = result.GetValueOrDefault(member.MemberId) ?? [];
        return assignments;
    }

    /// <summary>
    /// Cooperative rebalancing: removes from each member's new assignment the partitions another member still
    /// owns (its assignment of the last generation), so no partition ever has two owners. Returns how many
    /// were withheld; those are handed over in a follow-up rebalance, once their owners have let go.
    /// </summary>
    public static int WithholdOwnedByOthers(IReadOnlyList<GroupMember> members, Dictionary<string, IReadOnlyList<TopicPartition>> assignments)
    {
        var ownerOf = new Dictionary<TopicPartition, string>();
        foreach (var m in members)
            foreach (var p in m.Assignment.Partitions) ownerOf.TryAdd(p, m.MemberId);
        var withheld = 0;
        foreach (var m in members)
        {
            var granted = new List<TopicPartition>();
            foreach (var p in assignments[m.MemberId])
            {
                if (ownerOf.TryGetValue(p, out var owner) && owner != m.MemberId) withheld++;
                else granted.Add(p);
            }
            assignments[m.MemberId] = granted;
        }
        return withheld;
    }

    /// <summary>
    /// The partitions in an assignment, for ownership checks and describe: our layout, else Kafka's (relayed from a
    /// Kafka client's group leader through the Kafka listener); empty if it is neither.
    /// </summary>
    public static IReadOnlyList<TopicPartition> Partitions(string protocolType, byte[] assignment)
    {
        if (protocolType != ConsumerProtocol.ProtocolType || assignment.Length == 0) return [];
        try
        {
            return ConsumerProtocol.DecodeAssignment(assignment);
        }
        catch (Broker.Protocol.Serialization.WireFormatException)
        {
            if (!Broker.Kafka.KafkaConsumerProtocol.TryReadAssignment(assignment, out var kafka)) return [];
            var partitions = new List<TopicPartition>(kafka.Count);
            foreach (var (topic, partition) in kafka) partitions.Add(new TopicPartition(topic, partition));
            return partitions;
        }
    }
}
