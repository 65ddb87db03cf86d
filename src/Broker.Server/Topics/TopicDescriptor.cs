namespace Broker.Server.Topics;

/// <summary>
/// A topic as the registry records it. TopicId changes when a topic is deleted and created again, so a
/// partition can tell its old log (to purge) from the new topic's.
/// </summary>
public sealed record TopicDescriptor(
    string Name,
    string TopicId,
    int Partitions,
    short ReplicationFactor,
    IReadOnlyDictionary<string, string> Configs)
{
    public TopicConfig Config(BrokerSettings settings) => TopicConfig.From(Configs, settings);
}
