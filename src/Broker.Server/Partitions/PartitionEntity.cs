using System.Globalization;
using Akka.Cluster.Sharding;
using Broker.Protocol.Messages;
using Broker.Server.Groups;

namespace Broker.Server.Partitions;

/// <summary>
/// How partitions map onto Akka.Cluster.Sharding: entity id <c>topic/partition</c> (topic names cannot
/// contain '/'), and one shard per partition (shard id = entity id), because shards, not entities, are
/// what the allocation strategy places: each partition's leader must go to a node holding an in-sync copy.
/// A group request goes to the entity of its group's <see cref="OffsetsTopic"/> partition, whose leader hosts the
/// group's coordinator (<paramref name="offsetsTopicPartitions"/>: broker.groups.offsets-topic-partitions).
/// </summary>
public sealed class PartitionEntity(int offsetsTopicPartitions) : HashCodeMessageExtractor(maxNumberOfShards: 1)
{
    public const string TypeName = "partition";

    public static string EntityId(string topic, int partition) => $"{topic}/{partition}";

    public static (string Topic, int Partition) Parse(string entityId)
    {
        var slash = entityId.LastIndexOf('/');
        return (entityId[..slash], int.Parse(entityId.AsSpan(slash + 1), CultureInfo.InvariantCulture));
    }

    public override string? EntityId(object message) => message switch
    {
        IPartitionMessage m => EntityId(m.Topic, m.Partition),
        IPartitionCommand c => EntityId(c.Topic, c.Partition),
        IGroupMessage g => EntityId(OffsetsTopic.Name, OffsetsTopic.PartitionFor(g.GroupId, offsetsTopicPartitions)),
        _ => null,
    };

#pragma warning disable CS0672 // overrides the obsolete overload too, so no path hashes partitions into shared shards
    public override string? ShardId(object message) => EntityId(message);
#pragma warning restore CS0672

    public override string ShardId(string entityId, object? messageHint = null) => entityId;
}
