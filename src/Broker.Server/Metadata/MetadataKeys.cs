namespace Broker.Server.Metadata;

/// <summary>The Distributed Data keys of the metadata store; all are durable (listed in reference.conf).</summary>
public static class MetadataKeys
{
    public const string TopicsId = "broker-topics";
    public const string PartitionsId = "broker-partitions";
    public const string ProducerIdsId = "broker-producer-ids";
    public const string AclsId = "broker-acls";
    public const string UsersId = "broker-users";

    public static readonly TopicTableKey Topics = new();
    public static readonly PartitionStateTableKey Partitions = new();
    public static readonly ProducerIdBlocksKey ProducerIds = new();
    public static readonly AclTableKey Acls = new();
    public static readonly UserTableKey Users = new();
}
