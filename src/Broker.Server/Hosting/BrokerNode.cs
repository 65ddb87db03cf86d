using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;
using Broker.Protocol;
using Broker.Server.Controller.Quorum;
using Broker.Server.Gateway;
using Broker.Server.Groups;
using Broker.Server.Kafka;
using Broker.Server.Membership;
using Broker.Server.Partitions;
using Broker.Server.Topics;

namespace Broker.Server.Hosting;

/// <summary>
/// A running broker node: an ActorSystem named "broker" that is an Akka.Cluster member hosting
/// partition shards, the topic registry and the client gateway at /user/gateway.
/// </summary>
public sealed class BrokerNode : IAsyncDisposable
{
    public const string SystemName = "broker";
    public const int DefaultPort = 9190;

    private BrokerNode(ActorSystem system, NodeSettings settings, MetadataQuorum? quorum)
    {
        System = system;
        Settings = settings;
        MetadataQuorum = quorum;
    }

    public ActorSystem System { get; }
    public NodeSettings Settings { get; }

    /// <summary>This node's metadata quorum voter (broker.metadata.quorum), or null when the quorum is off. Not yet read by the partition actors.</summary>
    public MetadataQuorum? MetadataQuorum { get; }

    /// <summary>The Kafka wire-protocol listener, or null when it is off or could not bind its port.</summary>
    public KafkaListener? KafkaListener { get; private init; }

    /// <summary>host:port that clients bootstrap with: the advertised address.</summary>
    public string Address => $"{Settings.PublicHost}:{Settings.PublicPort}";

    public Task WhenTerminated => System.WhenTerminated;

    /// <summary>Loads configuration (see <see cref="NodeOverrides"/>), opens the data directory and starts the node.</summary>
    public static async Task<BrokerNode> StartAsync(NodeOverrides overrides, CancellationToken cancellationToken = default)
    {
        var (config, settings) = NodeConfig.Load(overrides);
        SqliteJournal.Prepare(settings.JournalPath, settings.JournalPageSize);
        var quorum = await StartQuorumAsync(config, settings, cancellationToken);
        // Bound before the ActorSystem starts, so the cluster role that announces its address is known.
        var kafka = KafkaListener.TryBind(settings.Kafka, out var kafkaProblem);
        if (kafka is not null) config = kafka.AnnounceIn(config);
        var system = ActorSystem.Create(SystemName, config);
        try
        {
            var gateway = StartActors(system);
            system.Log.Info("broker node listening on {0}:{1} (gateway akka.tcp://{2}@{3}:{4}/user/gateway), data in {5}",
                settings.Host, settings.Port, SystemName, settings.PublicHost, settings.PublicPort, settings.JournalPath);
            if (kafka is not null) kafka.Start(system, gateway);
            else if (settings.Kafka.Enabled) system.Log.Warning("{0}; the node runs without it", kafkaProblem);
            await WaitUntilUp(system, settings.JoinTimeout, cancellationToken);
            return new BrokerNode(system, settings, quorum) { KafkaListener = kafka };
        }
        catch
        {
            if (kafka is not null) await kafka.StopAsync();
            await system.Terminate();
            if (quorum is not null) await quorum.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts this node's metadata quorum voter when broker.metadata.quorum.voters is set (see reference.conf).</summary>
    private static async Task<MetadataQuorum?> StartQuorumAsync(Akka.Configuration.Config config, NodeSettings settings, CancellationToken cancellationToken)
    {
        if (QuorumConfig.From(config, settings.NodeId, settings.DataDirectory) is not { } quorumSettings) return null;
        if (!QuorumDirectory.IsFormatted(quorumSettings.Directory) && QuorumConfig.FormatIfNew(config)) QuorumDirectory.Format(quorumSettings);
        return await MetadataQuorum.StartAsync(quorumSettings, ct: cancellationToken);
    }

    /// <summary>
    /// Starts the node's actors in an ActorSystem that has the node's configuration: the topic registry
    /// singleton, the partition and group-coordinator shard regions and the gateway at /user/gateway (returned).
    /// </summary>
    public static IActorRef StartActors(ActorSystem system)
    {
        var broker = BrokerSettings.Create(system.Settings.Config);
        var nodeId = NodeIdentity.Self(system);
        if (nodeId < 0) throw new InvalidOperationException("this node has no node id role (node-<id>); start it through NodeConfig.Load");
        var registry = TopicRegistry.Start(system, broker);
        var partitions = ClusterSharding.Get(system).Start(
            PartitionEntity.TypeName,
            PartitionLeaderEntity.Props,
            ClusterShardingSettings.Create(system),
            new PartitionEntity(),
            new ReplicaAllocationStrategy(broker.MetadataTimeout),
            StopPartitionLeader.Instance);
        system.ActorOf(ReplicaManagerActor.Props(broker, partitions, nodeId), ReplicaManagerActor.Name);
        var groups = ClusterSharding.Get(system).Start(
            GroupEntity.TypeName,
            groupId => GroupCoordinatorActor.Props(groupId, broker, registry),
            ClusterShardingSettings.Create(system),
            new GroupEntity(maxShards: 50));
        return system.ActorOf(GatewayActor.Props(broker, partitions, registry, groups), Wellknown.GatewayName);
    }

    /// <summary>Returns once this node is an Up member, so requests do not race cluster formation; a worker whose seeds are down keeps trying in the background.</summary>
    private static async Task WaitUntilUp(ActorSystem system, TimeSpan joinTimeout, CancellationToken cancellationToken)
    {
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        var waited = await Task.WhenAny(up.Task, Task.Delay(joinTimeout, cancellationToken));
        if (waited == up.Task)
            system.Log.Info("broker node ready: cluster member {0} is up", Cluster.Get(system).SelfAddress);
        else
            system.Log.Warning("not yet a cluster member after {0}s (broker.node.join-timeout); check the seed nodes (broker.node.seeds); still trying", joinTimeout.TotalSeconds);
    }

    /// <summary>Leaves the cluster gracefully (shards hand off) and terminates the ActorSystem.</summary>
    public async Task StopAsync()
    {
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance);
        if (MetadataQuorum is not null) await MetadataQuorum.DisposeAsync();
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
