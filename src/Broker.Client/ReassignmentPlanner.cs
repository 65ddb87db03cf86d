using Broker.Protocol.Messages;

namespace Broker.Client;

/// <summary>
/// Plans moves for <see cref="AdminClient.ReassignPartitionsAsync"/> (as kafka-reassign-partitions' --generate does):
/// every replica on a node that is gone for good goes to a live node that holds no replica of that partition yet,
/// the least loaded first, keeping the replica's place in the list (so a preferred leader stays preferred).
/// </summary>
public static class ReassignmentPlanner
{
    /// <summary>
    /// Moves off <paramref name="nodeId"/> for every partition of <paramref name="topics"/> with a replica there.
    /// <paramref name="liveNodeIds"/> are the candidate nodes; <paramref name="onlyTo"/>, if set, is the one node to move to.
    /// Throws <see cref="InvalidOperationException"/> when a partition has no candidate left (every live node already holds it).
    /// </summary>
    public static IReadOnlyList<PartitionReassignment> ReplaceNode(IReadOnlyList<TopicMetadata> topics, int nodeId, IReadOnlyCollection<int> liveNodeIds, int? onlyTo = null)
    {
        var load = new Dictionary<int, int>();
        foreach (var id in liveNodeIds)
            if (id != nodeId) load[id] = 0;
        foreach (var topic in topics)
        {
            foreach (var p in topic.Partitions)
            {
                foreach (var replica in p.Replicas)
                    if (load.TryGetValue(replica, out var count)) load[replica] = count + 1;
            }
        }

        var moves = new List<PartitionReassignment>();
        foreach (var topic in topics)
        {
            foreach (var p in topic.Partitions)
            {
                var at = IndexOf(p.Replicas, nodeId);
                if (at < 0) continue;
                var target = new int[p.Replicas.Count];
                for (var i = 0; i < target.Length; i++) target[i] = p.Replicas[i];
                target[at] = onlyTo ?? LeastLoaded(load, p.Replicas)
                    ?? throw new InvalidOperationException($"{topic.Name}/{p.Partition}: every live node already holds a replica; start another node first");
                if (onlyTo is { } to && IndexOf(p.Replicas, to) >= 0)
                    throw new InvalidOperationException($"{topic.Name}/{p.Partition}: node {to} already holds a replica; pick another node");
                if (load.TryGetValue(target[at], out var count)) load[target[at]] = count + 1;
                moves.Add(new PartitionReassignment(topic.Name, p.Partition, target));
            }
        }
        return moves;
    }

    private static int? LeastLoaded(Dictionary<int, int> load, IReadOnlyList<int> exclude)
    {
        int? best = null;
        foreach (var (id, count) in load)
        {
            if (IndexOf(exclude, id) >= 0) continue;
            if (best is null || count < load[best.Value] || (count == load[best.Value] && id < best.Value)) best = id;
        }
        return best;
    }

    private static int IndexOf(IReadOnlyList<int> list, int value)
    {
        for (var i = 0; i < list.Count; i++)
            if (list[i] == value) return i;
        return -1;
    }
}
