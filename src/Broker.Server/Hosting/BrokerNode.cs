using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Event;
using Microsoft.Extensions.Logging;
using Broker.Protocol;
using Broker.Protocol.Transport;
using Broker.Server.Controller.Quorum;
using Broker.Server.Gateway;
using Broker.Server.Kafka;
using Broker.Server.Membership;
using Broker.Server.Monitoring;
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
    /// <summary>Akka.Remote 1.5.73's exit code for the shutdown it runs after a failed outbound TLS handshake (TlsHandshakeFailureReason, internal).</summary>
    private const int TlsHandshakeFailedExitCode = 79;

    private BrokerNode(ActorSystem system, NodeSettings settings, IMetadataQuorum? quorum)
    {
        System = system;
        Settings = settings;
        MetadataQuorum = quorum;
    }

    public ActorSystem System { get; }
    public NodeSettings Settings { get; }

    /// <summary>This node's member of the metadata quorum (broker.metadata.quorum): a voter, or an observer when its id is not in the voter list; null when the quorum is off.</summary>
    public IMetadataQuorum? MetadataQuorum { get; }

    /// <summary>The Kafka wire-protocol listener, or null when it is off or could not bind its port.</summary>
    public KafkaListener? KafkaListener { get; private init; }

    /// <summary>The native clients' door (broker.client-door), or null when it is off.</summary>
    public Gateway.ClientDoor.ClientDoor? ClientDoor { get; private init; }

    /// <summary>The web page, /api, /metrics and /health server, or null when it is off or could not bind its port.</summary>
    public MonitorServer? Monitor { get; private init; }

    /// <summary>host:port that clients bootstrap with: the advertised address.</summary>
    public string Address => $"{Settings.PublicHost}:{Settings.PublicPort}";

    public Task WhenTerminated => System.WhenTerminated;

    /// <summary>Loads configuration (see <see cref="NodeOverrides"/>), opens the data directory and starts the node.</summary>
    public static async Task<BrokerNode> StartAsync(NodeOverrides overrides, CancellationToken cancellationToken = default)
    {
        var (config, settings) = NodeConfig.Load(overrides);
        var tls = settings.ClusterTls is { } tlsFiles ? Security.ClusterTls.Load(tlsFiles, DateTimeOffset.UtcNow) : null;
        var doorTls = settings.ClientDoor.Tls is { } doorFiles ? Security.ClientDoorTls.Load(doorFiles, DateTimeOffset.UtcNow) : null;
        SqliteJournal.Prepare(settings.JournalPath, settings.JournalPageSize);
        var quorum = await StartQuorumAsync(config, settings, tls, cancellationToken);
        // Bound before the ActorSystem starts, so the cluster role that announces its address is known.
        var kafka = KafkaListener.TryBind(settings.Kafka, out var kafkaProblem);
        if (kafka is not null) config = kafka.AnnounceIn(config);
        NettyLeakDetection.DisableUnlessAsked();
        // On a quorum, the side that holds a majority of the voters decides who is downed (Membership/QuorumDowning.cs).
        if (quorum is not null && config.GetBoolean("broker.metadata.quorum.downing.enabled", true))
            config = ConfigurationFactory.ParseString($"akka.cluster.downing-provider-class = \"{QuorumDowningProvider.ClassName}\"").WithFallback(config);
        var system = ActorSystem.Create(SystemName, Security.ClusterTls.SystemSetup(config, tls));
        try
        {
            if (quorum is not null)
            {
                QuorumExtension.Register(system, quorum); // before any actor builds its MetadataStore
                var metadataTimeout = BrokerSettings.Create(system.Settings.Config).MetadataTimeout;
                if (quorum is Controller.Quorum.MetadataQuorum voter)
                {
                    system.ActorOf(MetadataServerActor.Props(voter, metadataTimeout), MetadataServerActor.Name);
                    if (voter.IsCatchingUp) system.ActorOf(NewVoterActor.Props(voter), NewVoterActor.Name);
                }
                if (quorum is MetadataObserver observer)
                {
                    observer.Attach(new VoterLink(system, observer.VoterIds, metadataTimeout));
                    system.Log.Info("this node observes the metadata quorum: it is not one of the voters ({0}), so it follows their log and proposes through them",
                        string.Join(", ", observer.VoterIds));
                }
            }
            else if (settings.Seeds.Count > 0 || settings.KnownPeers.Count > 0)
            {
                system.Log.Warning("this node is part of a cluster but has no --voters: the cluster's metadata is kept in Distributed Data, where a node that is "
                    + "alone or behind can override what the others decided (docs/architecture.md, \"The metadata store\"); start every node with the same --voters list");
            }
            var gateway = StartActors(system);
            Gateway.ClientDoor.ClientDoor? clientDoor = null;
            system.Log.Info("broker node listening on {0}:{1} (gateway {2}://{3}@{4}/user/gateway), data in {5}",
                settings.Host, settings.Port, Security.ClusterTls.Scheme(tls is not null), SystemName, $"{settings.PublicHost}:{settings.PublicPort}", settings.JournalPath);
            if (tls is not null) system.Log.Info("mutual TLS between nodes: this node is {0}; only nodes with a certificate from the cluster CA may connect", tls.NodeCertificate.Subject);
            if (kafka is not null) kafka.Start(system, gateway);
            else if (settings.Kafka.Enabled) system.Log.Warning("{0}; the node runs without it", kafkaProblem);
            if (settings.ClientDoor.Enabled)
            {
                var bootstrapUsers = settings.Kafka.Sasl?.Credentials ?? Security.Sasl.KafkaSaslSettings.DevUsers(config.GetConfig("broker.kafka"));
                clientDoor = Gateway.ClientDoor.ClientDoor.Start(system, gateway, settings.ClientDoor, doorTls, bootstrapUsers);
            }
            system.ActorOf(MembershipRecorderActor.Props(settings.DataDirectory, quorum?.VoterIds), "membership-recorder");
            system.ActorOf(QuarantineWatcherActor.Props(), QuarantineWatcherActor.Name);
            // 10 s: a healthy take-over starts the singletons about a second after the previous oldest is downed (its
            // removal, then the hand-over); this node counts as the oldest only from that down. 30 s made a 5-node nemesis
            // heal take 32.5 s (the oldest's managers had handed over to the node whose disk was then wiped).
            system.ActorOf(StuckSingletonActor.Props(new StuckSingletonRule(TimeSpan.FromSeconds(10), TimeProvider.System)), StuckSingletonActor.Name);
            system.ActorOf(DeadProcessDetectorActor.Props(), DeadProcessDetectorActor.Name);
            if (quorum is Controller.Quorum.MetadataQuorum formingVoter)
            {
                // Only voters may form the cluster (with the controller as first seed); an observer joins through its seeds.
                system.ActorOf(ClusterFormationActor.Props(formingVoter, settings.NodeId, $"{settings.PublicHost}:{settings.PublicPort}", settings.DataDirectory,
                    settings.Seeds, Security.ClusterTls.Scheme(tls is not null)), ClusterFormationActor.Name);
                if (config.GetTimeSpan("broker.metadata.quorum.island-check-after") is var island && island > TimeSpan.Zero)
                    system.ActorOf(IslandCheckActor.Props(new IslandCheck(island, TimeProvider.System), formingVoter), IslandCheckActor.Name);
            }
            if (settings.KnownPeers.Count > 0)
            {
                system.Log.Info("this data directory belonged to a cluster of {0} nodes ({1}); the node serves once {2} of them, itself included, are members",
                    settings.KnownPeers.Count + 1, string.Join(", ", settings.KnownPeers.Select(m => $"node {m.NodeId} at {m.Address}")), settings.MinMembers);
            }
            var monitor = await StartMonitorAsync(system, settings, gateway);
            await WaitUntilUp(system, settings, cancellationToken);
            return new BrokerNode(system, settings, quorum) { KafkaListener = kafka, Monitor = monitor, ClientDoor = clientDoor };
        }
        catch (Exception ex)
        {
            if (kafka is not null) await kafka.StopAsync();
            await system.Terminate();
            if (quorum is not null) await quorum.DisposeAsync();
            // Akka.Remote stopped the system under the start (a peer refused this node's certificate, or it the peer's):
            // say so, so that RunAsync starts it again as it does when that happens later (CI stop 22's stranger node
            // exited with "ActorSystem already terminated" instead).
            if (CoordinatedShutdown.Get(system).ShutdownReason is { ExitCode: TlsHandshakeFailedExitCode }) throw new TlsHandshakeFailedException(ex);
            throw;
        }
    }

    /// <summary>Starts this node's metadata quorum voter (or observer, when its id is not a voter's) when broker.metadata.quorum.voters is set (see reference.conf).</summary>
    private static async Task<IMetadataQuorum?> StartQuorumAsync(Akka.Configuration.Config config, NodeSettings settings, Security.ClusterTls? tls, CancellationToken cancellationToken)
    {
        if (QuorumConfig.From(config, settings.NodeId, settings.DataDirectory) is not { } quorumSettings) return null;
        if (!quorumSettings.IsVoter) return new MetadataObserver(quorumSettings, QuorumLogging()); // it follows the voters' log once the node joins (over Akka.Remote, TLS like every node message)
        quorumSettings = quorumSettings with { Tls = tls }; // the Raft port and the controller channel take only nodes, as Akka.Remote does
        // A new data directory formats its quorum directory; an existing one must already have it (a voter that lost its
        // quorum log but kept its data must not vote with an empty log: QuorumDirectory.Check says how to recover). A new
        // directory is also what a wiped disk looks like, so the voter does not vote until it has caught up (or, in a new
        // cluster, until no voter holds a log: NewVoterActor).
        if (!QuorumDirectory.IsFormatted(quorumSettings.Directory) && (settings.NewDataDirectory || QuorumConfig.FormatIfNew(config)))
            QuorumDirectory.Format(quorumSettings, catchingUp: true);
        return await Controller.Quorum.MetadataQuorum.StartAsync(quorumSettings, QuorumLogging(), cancellationToken);
    }

    /// <summary>
    /// DotNext's Raft log lines on the node's console: errors by default (its warnings repeat twice a second for a voter
    /// that is down); BROKER_QUORUM_LOG=Warning, Information or Debug shows elections, leader changes and replication
    /// failures when a quorum does not make progress.
    /// </summary>
    private static Microsoft.Extensions.Logging.ILoggerFactory QuorumLogging()
    {
        var level = Enum.TryParse<Microsoft.Extensions.Logging.LogLevel>(Environment.GetEnvironmentVariable("BROKER_QUORUM_LOG"), ignoreCase: true, out var wanted)
            ? wanted : Microsoft.Extensions.Logging.LogLevel.Error;
        // The quorum's own warnings (a refused TLS peer) show at the default level; DotNext's stay at errors.
        var own = level < Microsoft.Extensions.Logging.LogLevel.Warning ? level : Microsoft.Extensions.Logging.LogLevel.Warning;
        return Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.SetMinimumLevel(level).AddFilter(typeof(MetadataQuorum).Namespace, own).AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "[yyyy-MM-dd HH:mm:ss.fff] ";
            o.UseUtcTimestamp = true;
        }));
    }

    /// <summary>
    /// Starts the node's actors in an ActorSystem that has the node's configuration: the topic registry
    /// singleton, the partition shard region (whose __consumer_offsets leaders host the group coordinators) and the
    /// gateway at /user/gateway (returned).
    /// </summary>
    public static IActorRef StartActors(ActorSystem system)
    {
        var broker = BrokerSettings.Create(system.Settings.Config);
        var nodeId = NodeIdentity.Self(system);
        if (nodeId < 0) throw new InvalidOperationException("this node has no node id role (node-<id>); start it through NodeConfig.Load");
        var registry = TopicRegistry.Start(system, broker);
        var partitions = ClusterSharding.Get(system).Start(
            PartitionEntity.TypeName,
            entityId => PartitionLeaderEntity.Props(entityId, broker.Groups, registry),
            ClusterShardingSettings.Create(system),
            new PartitionEntity(broker.Groups.OffsetsTopicPartitions),
            new ReplicaAllocationStrategy(broker.MetadataTimeout),
            StopPartitionLeader.Instance);
        system.ActorOf(ReplicaManagerActor.Props(broker, partitions, nodeId), ReplicaManagerActor.Name);
        return system.ActorOf(GatewayActor.Props(broker, partitions, registry), Wellknown.GatewayName);
    }

    /// <summary>The cluster watcher and the web server (broker.http); null when off or its port is taken (the node runs on without it).</summary>
    private static async Task<MonitorServer?> StartMonitorAsync(ActorSystem system, NodeSettings settings, IActorRef gateway)
    {
        if (!settings.Http.Enabled) return null;
        var feed = new ClusterViewFeed();
        system.ActorOf(ClusterWatcherActor.Props(gateway, feed, settings.Http, settings.NodeId), ClusterWatcherActor.Name);
        var (server, problem) = await MonitorServer.TryStartAsync(settings.Http, feed, BrokerMetrics.Get(system));
        if (server is null)
        {
            system.Log.Warning("{0}; the node runs without it", problem);
            return null;
        }
        system.Log.Info("web page, /api, /metrics and /health on http://{0}:{1}/", server.Host, server.BoundPort);
        system.RegisterOnTermination(() => server.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5)));
        return server;
    }

    /// <summary>Returns once this node is an Up member, so requests do not race cluster formation; a worker whose seeds are down keeps trying in the background.</summary>
    private static async Task WaitUntilUp(ActorSystem system, NodeSettings settings, CancellationToken cancellationToken)
    {
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cluster = Cluster.Get(system);
        cluster.RegisterOnMemberUp(() =>
        {
            up.TrySetResult();
            system.Log.Info("broker node ready: cluster member {0} is up", cluster.SelfAddress);
        });
        var waited = await Task.WhenAny(up.Task, Task.Delay(settings.JoinTimeout, cancellationToken));
        if (waited == up.Task) return;
        if (settings.MinMembers > 1 && cluster.SelfMember.Status == MemberStatus.Joining)
        {
            system.Log.Warning(
                "waiting for {0} of the {1} nodes this data directory last ran with to be members before serving (so a node with stale metadata never decides alone); " +
                "start the others ({2}). If a majority of them is gone for good, see 'A cluster that lost a majority' in docs/architecture.md; still waiting",
                settings.MinMembers, settings.KnownPeers.Count + 1, string.Join(", ", settings.KnownPeers.Select(m => $"node {m.NodeId} at {m.Address}")));
            return;
        }
        system.Log.Warning("not yet a cluster member after {0}s (broker.node.join-timeout); check the seed nodes (broker.node.seeds); still trying", settings.JoinTimeout.TotalSeconds);
    }

    /// <summary>
    /// True once the ActorSystem has terminated because the cluster downed this node: a pause (GC, SIGSTOP, a starved
    /// host) or a network cut long enough for the others to remove it, or the Split Brain Resolver's decision that
    /// this side is the minority. Such a node may rejoin as a new incarnation (<see cref="RunAsync"/> does).
    /// </summary>
    public bool WasDownedByCluster => System.WhenTerminated.IsCompleted && CoordinatedShutdown.Get(System).ShutdownReason is CoordinatedShutdown.ClusterDowningReason;

    /// <summary>
    /// Runs a node until <paramref name="cancellationToken"/> is cancelled (then it leaves gracefully). When the cluster
    /// downs it, the node starts again in this process: a new ActorSystem on the same ports and data directory, which
    /// rejoins through its seeds and the members it last knew, recovers its replicas from the journal and catches up,
    /// instead of leaving the process running nothing or needing a supervisor. <paramref name="started"/> is called
    /// for every incarnation, <paramref name="restarting"/> before each restart. Returns when stopped; throws what
    /// <see cref="StartAsync"/> throws.
    /// </summary>
    public static async Task RunAsync(NodeOverrides overrides, Action<BrokerNode> started, Action<string> restarting, CancellationToken cancellationToken)
    {
        BrokerNode node;
        try
        {
            node = await StartAsync(overrides, cancellationToken);
        }
        catch (TlsHandshakeFailedException)
        {
            restarting(TlsHandshakeFailedMessage);
            node = await RestartAsync(overrides, restarting, cancellationToken);
        }
        while (true)
        {
            started(node);
            try
            {
                await Task.WhenAny(node.WhenTerminated, Task.Delay(Timeout.Infinite, cancellationToken));
            }
            finally
            {
                if (!node.WhenTerminated.IsCompleted) await node.StopAsync();
                if (node.KafkaListener is { } kafka) await kafka.StopAsync();
                if (node.MetadataQuorum is { } quorum) await quorum.DisposeAsync();
            }
            if (cancellationToken.IsCancellationRequested) return;
            // Nobody asked this node to stop: the cluster removed it (downed while paused or cut off, or on the
            // minority side), or its actor system ended for another reason. Either way it comes back as a new incarnation.
            var reason = CoordinatedShutdown.Get(node.System).ShutdownReason;
            restarting(reason is { ExitCode: TlsHandshakeFailedExitCode }
                ? TlsHandshakeFailedMessage
                : node.WasDownedByCluster
                ? $"the cluster removed this node ({node.Address}, node id {node.Settings.NodeId}): it was unreachable for too long (a pause, an overloaded host or a network cut) or found itself on the minority side; starting it again as a new incarnation that rejoins the cluster"
                : $"this node's actor system stopped ({reason?.GetType().Name ?? "no reason given"}) without being asked to; starting it again as a new incarnation that rejoins the cluster");
            node = await RestartAsync(overrides, restarting, cancellationToken);
        }
    }

    private const string TlsHandshakeFailedMessage = "this node's actor system stopped: a TLS handshake it started with another node failed (Akka.Remote then shuts the node down), because that peer refused this node's certificate or this node refused the peer's (see the warning above; check broker.security on both); starting it again as a new incarnation";

    // The old incarnation's ports may take a moment to be released: try again with a growing pause. A start stopped
    // by a failed TLS handshake is tried again without limit, as a running node is.
    private static async Task<BrokerNode> RestartAsync(NodeOverrides overrides, Action<string> restarting, CancellationToken cancellationToken)
    {
        var pause = TimeSpan.FromSeconds(1);
        for (var attempt = 1; ; attempt++)
        {
            await Task.Delay(pause, cancellationToken);
            try
            {
                return await StartAsync(overrides, cancellationToken);
            }
            catch (TlsHandshakeFailedException)
            {
                restarting(TlsHandshakeFailedMessage);
                pause = TimeSpan.FromSeconds(Math.Min(30, pause.TotalSeconds * 2));
            }
            catch (Exception ex) when (attempt < 10 && ex is IOException or InvalidOperationException or global::System.Net.Sockets.SocketException)
            {
                restarting($"the new incarnation could not start ({ex.Message}); trying again");
                pause = TimeSpan.FromSeconds(Math.Min(30, pause.TotalSeconds * 2));
            }
        }
    }

    /// <summary>Leaves the cluster gracefully (shards hand off) and terminates the ActorSystem.</summary>
    public async Task StopAsync()
    {
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance);
        if (MetadataQuorum is not null) await MetadataQuorum.DisposeAsync();
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}

/// <summary>The node's actor system was stopped while it started, because a TLS handshake with another node failed.</summary>
public sealed class TlsHandshakeFailedException(Exception inner)
    : Exception("a TLS handshake with another node failed while this node started, and Akka.Remote stopped it", inner);
