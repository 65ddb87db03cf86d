using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Partitions;

namespace Broker.Server.Gateway;

/// <summary>Answers a ClusterStatusRequest: members from the cluster state, hosted partitions from every member's gateway.</summary>
internal static class ClusterStatusBuilder
{
    public static async Task<IBrokerResponse> Build(ClusterEvent.CurrentClusterState state, ActorSystem system, TimeSpan timeout)
    {
        var brokers = MetadataBuilder.Brokers(state);
        var asks = new List<Task<HostedPartitionsReply>>();
        foreach (var member in state.Members)
        {
            if (member.Status != MemberStatus.Up || state.Unreachable.Contains(member)) continue;
            var gateway = system.ActorSelection(new RootActorPath(member.Address) / "user" / Wellknown.GatewayName);
            asks.Add(AskOrEmpty(gateway, timeout));
        }
        var partitions = new List<HostedPartition>();
        foreach (var reply in await Task.WhenAll(asks).ConfigureAwait(false)) partitions.AddRange(reply.Partitions);
        partitions.Sort((a, b) => a.Topic != b.Topic ? string.CompareOrdinal(a.Topic, b.Topic) : a.Partition.CompareTo(b.Partition));
        return new ClusterStatusResponse(brokers, partitions);
    }

    /// <summary>The partitions this node's shard region hosts right now.</summary>
    public static async Task<HostedPartitionsReply> LocalPartitions(IActorRef region, string address, TimeSpan timeout)
    {
        var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, timeout).ConfigureAwait(false);
        var list = new List<HostedPartition>();
        foreach (var shard in state.Shards)
        {
            foreach (var entityId in shard.EntityIds)
            {
                var (topic, partition) = PartitionEntity.Parse(entityId);
                list.Add(new HostedPartition(topic, partition, address));
            }
        }
        return new HostedPartitionsReply(list);
    }

    private static async Task<HostedPartitionsReply> AskOrEmpty(ActorSelection gateway, TimeSpan timeout)
    {
        try
        {
            return await gateway.Ask<HostedPartitionsReply>(GetHostedPartitions.Instance, timeout).ConfigureAwait(false);
        }
        catch
        {
            return new HostedPartitionsReply([]);
        }
    }
}
