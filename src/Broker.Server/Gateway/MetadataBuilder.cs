using Akka.Actor;
using Akka.Cluster;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Groups;
using Broker.Server.Membership;
using Broker.Server.Metadata;
using Broker.Server.Partitions;
using Broker.Server.Topics;

namespace Broker.Server.Gateway;

/// <summary>
/// Answers a MetadataRequest off the gateway's mailbox: topics, replicas, leaders, epochs and ISRs from the
/// metadata store's copy on this node; offsets (log start, high watermark, log end) from each partition's leader.
/// </summary>
internal static class MetadataBuilder
{
    public static async Task<IBrokerResponse> Build(MetadataRequest request, TopicTable topics, PartitionStateTable states, LiveNodes live,
        IActorRef partitions, ClusterEvent.CurrentClusterState state, BrokerSettings settings)
    {
        var brokers = Brokers(state);
        // Internal topics (__consumer_offsets) are listed only when asked for by name.
        var wanted = request.Topics ?? topics.Live.Select(t => t.Name).Where(n => !OffsetsTopic.IsInternal(n)).ToList();
        var result = new List<TopicMetadata>(wanted.Count);
        foreach (var name in wanted)
        {
            var topic = topics.Find(name);
            if (topic is null)
            {
                result.Add(new TopicMetadata(name, "", ErrorCode.UnknownTopic, ErrorText.UnknownTopic(name),
                    0, new Dictionary<string, string>(), []));
                continue;
            }
            var infos = new Task<PartitionMetadata>[topic.Partitions];
            for (var p = 0; p < topic.Partitions; p++)
            {
                var replicas = topic.ReplicasOf(p);
                var ps = states.Find(topic.TopicId, p);
                var offline = replicas.Where(r => !live.IsAlive(r)).ToArray();
                var isr = ps?.Isr.ToArray() ?? replicas.ToArray();
                var template = new PartitionMetadata(p, "", -1, -1, ErrorCode.None, null)
                {
                    LeaderId = ps?.Leader ?? -1,
                    LeaderEpoch = ps?.LeaderEpoch ?? -1,
                    Replicas = replicas.ToArray(),
                    Isr = isr,
                    OfflineReplicas = offline,
                    AddingReplicas = topic.Reassigning.TryGetValue(p, out var move) ? move.Adding.ToArray() : [],
                    RemovingReplicas = Reassignments.Removing(topic, p).ToArray(),
                };
                var available = LeaderChoice.For(topic, p, ps, topic.Config(settings).UncleanLeaderElection, live.IsAlive, out _) >= 0;
                // A leader whose node is down would leave the offsets ask waiting for the full request timeout, and
                // the whole answer with it (Kafka clients refresh metadata exactly then): say it is being replaced.
                infos[p] = !available ? Task.FromResult(template with { Error = ErrorCode.LeaderNotAvailable, ErrorMessage = "offline: no in-sync replica is up" })
                    : ps is { Leader: > 0 } && !live.IsAlive(ps.Leader)
                        ? Task.FromResult(template with { Error = ErrorCode.LeaderNotAvailable, ErrorMessage = $"its leader, node {ps.Leader}, is down; a new leader is being elected from the in-sync replicas" })
                        : PartitionAsync(partitions, topic.Name, template, OffsetsTimeout(settings));
            }
            result.Add(new TopicMetadata(topic.Name, topic.TopicId, ErrorCode.None, null, topic.ReplicationFactor, topic.Configs, await Task.WhenAll(infos).ConfigureAwait(false)));
        }
        return new MetadataResponse(brokers, result);
    }

    /// <summary>How long the offsets of one partition may hold up a metadata answer: a leader that does not answer by then is reported, not waited for.</summary>
    private static TimeSpan OffsetsTimeout(BrokerSettings settings) =>
        settings.RequestTimeout < TimeSpan.FromSeconds(3) ? settings.RequestTimeout : TimeSpan.FromSeconds(3);

    public static IReadOnlyList<BrokerInfo> Brokers(ClusterEvent.CurrentClusterState state)
    {
        var list = new List<BrokerInfo>();
        foreach (var member in state.Members)
        {
            var status = state.Unreachable.Contains(member) ? "Unreachable" : member.Status.ToString();
            list.Add(new BrokerInfo(member.Address.ToString(), member.Address.Host ?? "", member.Address.Port ?? 0,
                member.Roles.Where(r => !r.StartsWith(NodeIdentity.RolePrefix, StringComparison.Ordinal)).OrderBy(r => r).ToList(), status)
            {
                NodeId = NodeIdentity.Of(member),
            });
        }
        return list;
    }

    private static async Task<PartitionMetadata> PartitionAsync(IActorRef partitions, string topic, PartitionMetadata template, TimeSpan timeout)
    {
        try
        {
            var info = await partitions.Ask<PartitionInfo>(new GetPartitionInfo(topic, template.Partition), timeout).ConfigureAwait(false);
            if (info.Error != ErrorCode.None) return template with { Error = info.Error, ErrorMessage = info.ErrorMessage };
            return template with
            {
                Leader = info.Address,
                LeaderId = info.Leader,
                LeaderEpoch = info.LeaderEpoch,
                LogStartOffset = info.LogStartOffset,
                HighWatermark = info.HighWatermark,
                LogEndOffset = info.LogEndOffset,
            };
        }
        catch (Exception ex)
        {
            return template with { Error = ErrorCode.RequestTimedOut, ErrorMessage = $"partition did not answer ({ex.GetType().Name}); it may be electing a leader or moving" };
        }
    }
}
