namespace Broker.Server.Metadata;

/// <summary>The Distributed Data keys of the metadata store; both are durable (listed in reference.conf).</summary>
public static class MetadataKeys
{
    public const string TopicsId = "broker-topics";
    public const string PartitionsId = "broker-partitions";

    public static readonly TopicTableKey Topics = new();
    public static readonly PartitionStateTableKey Partitions = new();
}
