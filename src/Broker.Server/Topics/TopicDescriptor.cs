using System.Collections.Immutable;

namespace Broker.Server.Topics;

/// <summary>
/// A topic as the metadata store records it. TopicId changes when a topic is deleted and created again, so
/// a partition can tell its old log (to purge) from the new topic's. <paramref name="Assignments"/> lists,
/// per partition, the node ids that hold a replica, the preferred leader first.
///
/// <see cref="Reassigning"/> holds the target replicas of partitions being moved (Kafka's KIP-455): while a
/// move runs, the assignment is the target followed by the replicas being removed, so the new replicas copy
/// the log from the leader and join the ISR; once every target replica is in sync and the leader is one of
/// them, the topic registry makes the target the assignment and the removed replicas purge their copies.
/// </summary>
public sealed record TopicDescriptor(
    string Name,
    string TopicId,
    int Partitions,
    short ReplicationFactor,
    IReadOnlyDictionary<string, string> Configs,
    IReadOnlyList<ImmutableArray<int>> Assignments)
{
    public TopicConfig Config(BrokerSettings settings) => TopicConfig.From(Configs, settings, ReplicationFactor);

    /// <summary>The node ids holding replicas of <paramref name="partition"/>, preferred leader first.</summary>
    public ImmutableArray<int> ReplicasOf(int partition) =>
        partition < Assignments.Count ? Assignments[partition] : ImmutableArray<int>.Empty;

    /// <summary>Target replicas of the partitions being reassigned, by partition; empty when nothing moves.</summary>
    public IReadOnlyDictionary<int, PartitionMove> Reassigning { get; init; } = ImmutableDictionary<int, PartitionMove>.Empty;

    public bool IsReassigning(int partition) => Reassigning.ContainsKey(partition);

    /// <summary>Where <paramref name="partition"/>'s replicas are headed: the reassignment target, or the assignment when nothing moves.</summary>
    public ImmutableArray<int> TargetOf(int partition) =>
        Reassigning.TryGetValue(partition, out var move) ? move.Target : ReplicasOf(partition);
}

/// <summary>A partition on the move: its target replicas (preferred leader first) and which of them are new.</summary>
public sealed record PartitionMove(ImmutableArray<int> Target, ImmutableArray<int> Adding);
