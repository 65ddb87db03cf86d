using System.Collections.Immutable;
using Broker.Protocol;
using Broker.Server.Metadata;

namespace Broker.Server.Topics;

/// <summary>
/// The rules of moving a partition's replicas to other nodes (Kafka's KIP-455), kept out of the registry actor
/// so they can be tested alone. A move has two phases. Begin: the assignment becomes the target followed by the
/// replicas being removed, so the new replicas start, copy the log from the leader and join the ISR while the old
/// ones keep serving. Complete: once every target replica is in the ISR and the leader is one of them, the
/// assignment becomes the target, and the removed replicas purge their copies. Nothing is removed before its
/// data is on the replicas that replace it.
/// </summary>
public static class Reassignments
{
    /// <summary>Checks a requested target for <paramref name="partition"/> of <paramref name="topic"/>; None when it may start.</summary>
    public static (ErrorCode Error, string? Message) Validate(TopicDescriptor topic, int partition, IReadOnlyList<int> target, Func<int, bool> isAlive)
    {
        var name = $"{topic.Name}/{partition}";
        if (partition < 0 || partition >= topic.Partitions)
            return (ErrorCode.UnknownPartition, ErrorText.UnknownPartition(topic.Name, topic.Partitions, partition));
        if (topic.IsReassigning(partition))
        {
            return (ErrorCode.ReassignmentInProgress,
                $"{name} is already moving to nodes [{string.Join(",", topic.TargetOf(partition))}]; wait until `broker topics describe {topic.Name}` shows no replicas being added or removed");
        }

        if (target.Count != topic.ReplicationFactor)
        {
            return (ErrorCode.InvalidReplicaAssignment,
                $"{name} needs {topic.ReplicationFactor} replicas (the topic's replication factor), got {target.Count}: [{string.Join(",", target)}]");
        }

        if (target.Distinct().Count() != target.Count)
            return (ErrorCode.InvalidReplicaAssignment, $"{name}: a node is named twice in [{string.Join(",", target)}]; replicas must be on distinct nodes");
        var current = topic.ReplicasOf(partition);
        foreach (var node in target)
        {
            if (!current.Contains(node) && !isAlive(node))
            {
                return (ErrorCode.InvalidReplicaAssignment,
                    $"{name}: node {node} is not a live member of the cluster, so it cannot copy the log; `broker cluster status` lists the live node ids");
            }
        }

        return (ErrorCode.None, null);
    }

    /// <summary>
    /// The topic with <paramref name="partition"/> moving to <paramref name="target"/>. A target with the same
    /// nodes as today only reorders them (a new preferred leader) and needs no second phase.
    /// </summary>
    public static TopicDescriptor Begin(TopicDescriptor topic, int partition, IReadOnlyList<int> target)
    {
        var current = topic.ReplicasOf(partition);
        var assignments = topic.Assignments.ToArray();
        var targetArray = target.ToImmutableArray();
        if (current.Length == targetArray.Length && current.All(targetArray.Contains))
        {
            assignments[partition] = targetArray;
            return topic with { Assignments = assignments };
        }
        var union = targetArray.ToBuilder();
        foreach (var node in current)
            if (!union.Contains(node)) union.Add(node);
        assignments[partition] = union.ToImmutable();
        return topic with
        {
            Assignments = assignments,
            Reassigning = topic.Reassigning.ToImmutableDictionary().SetItem(partition,
                new PartitionMove(targetArray, [.. targetArray.Where(n => !current.Contains(n))])),
        };
    }

    /// <summary>
    /// Finishes the moves whose target replicas are all in sync under a leader from the target; null when none
    /// is ready. <paramref name="completed"/> names the partitions finished.
    /// </summary>
    public static TopicDescriptor? TryComplete(TopicDescriptor topic, PartitionStateTable states, out List<int> completed)
    {
        completed = [];
        if (topic.Reassigning.Count == 0) return null;
        var assignments = topic.Assignments.ToArray();
        var reassigning = topic.Reassigning.ToImmutableDictionary();
        foreach (var (partition, move) in topic.Reassigning)
        {
            var target = move.Target;
            var state = states.Find(topic.TopicId, partition);
            if (state is null || !target.Contains(state.Leader) || !target.All(state.InIsr)) continue;
            assignments[partition] = target;
            reassigning = reassigning.Remove(partition);
            completed.Add(partition);
        }
        return completed.Count == 0 ? null : topic with { Assignments = assignments, Reassigning = reassigning };
    }

    /// <summary>Replicas a move removes (in the assignment, not in the target).</summary>
    public static ImmutableArray<int> Removing(TopicDescriptor topic, int partition) =>
        topic.Reassigning.TryGetValue(partition, out var move)
            ? [.. topic.ReplicasOf(partition).Where(n => !move.Target.Contains(n))]
            : [];
}
