using System.Collections.Immutable;

namespace Broker.Server.Topics;

/// <summary>
/// Places a new topic's replicas on distinct nodes, as Kafka does without racks: partition p's replicas
/// are the nodes after a random start, shifted by p, so leaders (the first replica) and followers spread
/// evenly over the nodes.
/// </summary>
public static class ReplicaAssigner
{
    public static IReadOnlyList<ImmutableArray<int>> Assign(IReadOnlyCollection<int> liveNodeIds, int partitions, int replicationFactor, int start)
    {
        var nodes = liveNodeIds.Order().ToArray();
        if (replicationFactor > nodes.Length || replicationFactor < 1)
            throw new ArgumentOutOfRangeException(nameof(replicationFactor), $"replication factor {replicationFactor} needs as many live nodes; {nodes.Length} are up");
        var result = new ImmutableArray<int>[partitions];
        for (var p = 0; p < partitions; p++)
        {
            var replicas = new int[replicationFactor];
            for (var r = 0; r < replicationFactor; r++) replicas[r] = nodes[(start + p + r) % nodes.Length];
            result[p] = ImmutableArray.Create(replicas);
        }
        return result;
    }
}
