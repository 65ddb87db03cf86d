using Akka.Actor;
using Akka.Cluster;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Partitions;
using Broker.Server.Topics;

namespace Broker.Server.Gateway;

/// <summary>Answers a MetadataRequest off the gateway's mailbox: topics from the registry, offsets and hosting node from each partition.</summary>
internal static class MetadataBuilder
{
    public static async Task<IBrokerResponse> Build(MetadataRequest request, IActorRef registry, IActorRef partitions, ClusterEvent.CurrentClusterState state, TimeSpan timeout)
    {
        TopicsSnapshot topics;
        try
        {
            topics = await registry.Ask<TopicsSnapshot>(GetAllTopics.Instance, timeout).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return new ErrorResponse(ErrorCode.RequestTimedOut, $"the topic registry did not answer ({ex.GetType().Name}); the cluster may still be forming, retry shortly");
        }

        var brokers = Brokers(state);
        var wanted = request.Topics ?? topics.Topics.Select(t => t.Name).ToList();
        var result = new List<TopicMetadata>(wanted.Count);
        foreach (var name in wanted)
        {
            var topic = topics.Find(name);
            if (topic is null)
            {
                result.Add(new TopicMetadata(name, "", ErrorCode.UnknownTopic, $"topic '{name}' does not exist; create it with `broker topics create {name}`",
                    0, new Dictionary<string, string>(), []));
                continue;
            }
            var infos = new Task<PartitionMetadata>[topic.Partitions];
            for (var p = 0; p < topic.Partitions; p++) infos[p] = PartitionAsync(partitions, topic.Name, p, timeout);
            result.Add(new TopicMetadata(topic.Name, topic.TopicId, ErrorCode.None, null, topic.ReplicationFactor, topic.Configs, await Task.WhenAll(infos).ConfigureAwait(false)));
        }
        return new MetadataResponse(brokers, result);
    }

    public static IReadOnlyList<BrokerInfo> Brokers(ClusterEvent.CurrentClusterState state)
    {
        var list = new List<BrokerInfo>();
        foreach (var member in state.Members)
        {
            var status = state.Unreachable.Contains(member) ? "Unreachable" : member.Status.ToString();
            list.Add(new BrokerInfo(member.Address.ToString(), member.Address.Host ?? "", member.Address.Port ?? 0, member.Roles.OrderBy(r => r).ToList(), status));
        }
        return list;
    }

    private static async Task<PartitionMetadata> PartitionAsync(IActorRef partitions, string topic, int partition, TimeSpan timeout)
    {
        try
        {
            var info = await partitions.Ask<PartitionInfo>(new GetPartitionInfo(topic, partition), timeout).ConfigureAwait(false);
            return new PartitionMetadata(partition, info.Address, info.LogStartOffset, info.LogEndOffset, ErrorCode.None, null);
        }
        catch (Exception ex)
        {
            return new PartitionMetadata(partition, "", -1, -1, ErrorCode.RequestTimedOut, $"partition did not answer ({ex.GetType().Name}); it may be recovering or moving");
        }
    }
}
