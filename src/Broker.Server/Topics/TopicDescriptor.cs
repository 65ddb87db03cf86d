using System.Collections.Immutable;

namespace Broker.Server.Topics;

/// <summary>
/// A topic as the metadata store records it. TopicId changes when a topic is deleted and created again, so
/// a partition can tell its old log (to purge) from the new topic's. <paramref name="Assignments"/> lists,
/// per partition, the node ids that hold a replica, the preferred leader first.
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
}
