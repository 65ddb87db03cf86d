using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;
using Broker.Server.Membership;
using Broker.Server.Metadata;

namespace Broker.Server.Partitions;

/// <summary>
/// Places each partition's leader entity (one shard per partition) on a live in-sync replica, read from the
/// metadata store (<see cref="LeaderChoice"/>). Sharding's default strategy would place a shard on any node,
/// one without the partition's data included; this one never does. When no in-sync replica is alive it does
/// not allocate at all: the region buffers and retries, and the partition stays offline instead of starting
/// empty somewhere. Rebalance only corrects a leader that sits on a node outside the ISR (a placement made
/// from stale metadata) or on a replica a reassignment removes; it never moves a partition to a node that does
/// not have its log.
/// </summary>
public sealed class ReplicaAllocationStrategy(TimeSpan metadataTimeout) : IActorSystemDependentAllocationStrategy
{
    private ActorSystem _system = null!;
    private MetadataStore _store = null!;
    private ILoggingAdapter _log = null!;
    private readonly WarningThrottle _offlineWarned = new(TimeSpan.FromSeconds(30));

    public void Start(ActorSystem system)
    {
        _system = system;
        _store = new MetadataStore(system, metadataTimeout);
        _log = Logging.GetLogger(system, nameof(ReplicaAllocationStrategy));
    }

    public async Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations)
    {
        var (topicName, partition) = PartitionEntity.Parse(shardId);
        // On the metadata quorum this node's image is committed state, at most milliseconds behind, and the election
        // on the chosen node decides with a compare-and-set anyway: a local read keeps an offline partition (whose
        // shard sharding retries every few hundred ms) from costing a quorum round trip per retry.
        var (topics, states) = await ReadAsync(majority: !_store.ByConsensus).ConfigureAwait(false);
        var topic = topics.Find(topicName);
        if (topic is null || partition >= topic.Partitions)
            return requester; // the entity finds no replica there and answers UnknownTopic
        var regions = RegionsByNode(currentShardAllocations.Keys);
        var state = states.Find(topic.TopicId, partition);
        var config = topic.Config(Settings);
        var leader = LeaderChoice.For(topic, partition, state, config.UncleanLeaderElection, regions.ContainsKey, out var unclean);
        if (leader < 0)
        {
            // Not allocated: a region that is not registered (Nobody) makes the coordinator leave the request
            // unanswered and the region ask again; null would throw in the coordinator and restart it.
            if (!_offlineWarned.ShouldWarn(shardId)) return ActorRefs.Nobody;
            _log.Warning("partition {0} is offline: no in-sync replica (ISR {1}) is alive; it stays offline until one returns (unclean.leader.election.enable is off)",
                shardId, state is null ? "?" : string.Join(",", state.Isr));
            return ActorRefs.Nobody;
        }
        if (unclean)
            _log.Error("UNCLEAN LEADER ELECTION for partition {0}: no in-sync replica is alive, so node {1}, which may lack acknowledged records, will lead (unclean.leader.election.enable=true)", shardId, leader);
        return regions[leader];
    }

    public async Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations, IImmutableSet<string> rebalanceInProgress)
    {
        var moves = ImmutableHashSet.CreateBuilder<string>();
        var (topics, states) = await ReadAsync(majority: false).ConfigureAwait(false);
        var regions = RegionsByNode(currentShardAllocations.Keys);
        var nodeOfRegion = new Dictionary<IActorRef, int>();
        foreach (var (node, region) in regions) nodeOfRegion[region] = node;
        foreach (var (region, shards) in currentShardAllocations)
        {
            if (!nodeOfRegion.TryGetValue(region, out var node)) continue;
            foreach (var shard in shards)
            {
                if (rebalanceInProgress.Contains(shard) || moves.Count >= 10) continue;
                var (topicName, partition) = PartitionEntity.Parse(shard);
                var topic = topics.Find(topicName);
                if (topic is null) continue;
                var state = states.Find(topic.TopicId, partition);
                if (state is null) continue;
                var leaving = topic.IsReassigning(partition) && !topic.TargetOf(partition).Contains(node);
                if (state.InIsr(node) && !leaving) continue;
                var better = LeaderChoice.For(topic, partition, state, false, regions.ContainsKey, out _);
                if (better >= 0 && better != node)
                {
                    _log.Info("moving the leader of {0} off node {1} ({2}) to node {3}", shard, node,
                        leaving ? "its replica there is being removed" : $"not in the ISR [{string.Join(",", state.Isr)}]", better);
                    moves.Add(shard);
                }
            }
        }
        return moves.ToImmutable();
    }

    private BrokerSettings Settings => _settings ??= BrokerSettings.Create(_system.Settings.Config);
    private BrokerSettings? _settings;

    private async Task<(TopicTable, PartitionStateTable)> ReadAsync(bool majority)
    {
        try
        {
            return (await _store.TopicsAsync(majority).ConfigureAwait(false), await _store.PartitionsAsync(majority).ConfigureAwait(false));
        }
        catch (Exception ex) when (majority)
        {
            // A stale local view can only pick a node that was in the ISR; that node's election re-checks with a majority.
            _log.Warning("allocation: majority read failed ({0}); using this node's copy of the metadata", ex.Message);
            return (await _store.TopicsAsync(false).ConfigureAwait(false), await _store.PartitionsAsync(false).ConfigureAwait(false));
        }
    }

    /// <summary>The live nodes that run a shard region, by node id.</summary>
    private Dictionary<int, IActorRef> RegionsByNode(IEnumerable<IActorRef> regions)
    {
        var cluster = Cluster.Get(_system);
        var live = new LiveNodes(cluster.State);
        var result = new Dictionary<int, IActorRef>();
        foreach (var region in regions)
        {
            var address = region.Path.Address.HasLocalScope ? cluster.SelfAddress : region.Path.Address;
            var id = live.IdAt(address);
            if (id >= 0) result[id] = region;
        }
        return result;
    }
}

/// <summary>Says a warning is due for a key at most once per <paramref name="every"/> (sharding retries an offline shard every few hundred ms).</summary>
internal sealed class WarningThrottle(TimeSpan every)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _last = new(StringComparer.Ordinal);

    public bool ShouldWarn(string key)
    {
        var now = Environment.TickCount64;
        var due = true;
        _last.AddOrUpdate(key, now, (_, last) =>
        {
            due = now - last >= every.TotalMilliseconds;
            return due ? now : last;
        });
        return due;
    }
}
