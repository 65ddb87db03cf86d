using Broker.Protocol;

namespace Broker.Server.Groups.Assignment;

/// <summary>
/// Collects an assignment member by member and hands it back in the shape the coordinator expects: an
/// entry for every member, lists sorted by topic then partition, members enumerated in id order.
/// </summary>
internal sealed class AssignmentBuilder
{
    private readonly SortedDictionary<string, List<TopicPartition>> _byMember = new(StringComparer.Ordinal);

    public AssignmentBuilder(IEnumerable<string> memberIds)
    {
        foreach (var id in memberIds)
            _byMember[id] = [];
    }

    public void Add(string memberId, TopicPartition partition) => _byMember[memberId].Add(partition);

    public int CountOf(string memberId) => _byMember[memberId].Count;

    public IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> Build()
    {
        // A sorted dictionary so that enumerating the result (to serialise it, say) is deterministic too.
        var result = new SortedDictionary<string, IReadOnlyList<TopicPartition>>(StringComparer.Ordinal);
        foreach (var (id, partitions) in _byMember)
        {
            var sorted = partitions.ToArray();
            Array.Sort(sorted);
            result[id] = Array.AsReadOnly(sorted);
        }
        return result;
    }
}
