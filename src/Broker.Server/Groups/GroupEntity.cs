using Akka.Cluster.Sharding;
using Broker.Protocol.Messages;

namespace Broker.Server.Groups;

/// <summary>How group coordinators map onto Akka.Cluster.Sharding: entity id = group id, shard from a stable hash.</summary>
public sealed class GroupEntity(int maxShards) : HashCodeMessageExtractor(maxShards)
{
    public const string TypeName = "group";

    /// <summary>Journal persistence ids of groups start with this, which is how groups are listed.</summary>
    public const string PersistencePrefix = "group/";

    public override string? EntityId(object message) => message is IGroupMessage g && !string.IsNullOrEmpty(g.GroupId) ? g.GroupId : null;
}
