using Akka.Cluster.Sharding;
using Broker.Protocol.Messages;

namespace Broker.Server.Partitions;

/// <summary>
/// How partitions map onto Akka.Cluster.Sharding: entity id <c>topic/partition</c> (topic names cannot
/// contain '/'), shard id from a stable hash of the entity id.
/// </summary>
public sealed class PartitionEntity(int maxShards) : HashCodeMessageExtractor(maxShards)
{
    public const string TypeName = "partition";

    public static string EntityId(string topic, int partition) => $"{topic}/{partition}";

    public static (string Topic, int Partition) Parse(string entityId)
    {
        var slash = entityId.LastIndexOf('/');
        return (entityId[..slash], int.Parse(entityId.AsSpan(slash + 1)));
    }

    public override string? EntityId(object message) => message switch
    {
        IPartitionMessage m => EntityId(m.Topic, m.Partition),
        IPartitionCommand c => EntityId(c.Topic, c.Partition),
        _ => null,
    };
}
