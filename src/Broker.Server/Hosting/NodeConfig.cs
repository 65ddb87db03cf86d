using System.Reflection;
using Akka.Configuration;
using Akka.Persistence.Sql;
using Broker.Protocol.Serialization;

namespace Broker.Server.Hosting;

/// <summary>
/// Builds a node's HOCON in one documented order, highest precedence first: flags, BROKER_* environment
/// variables, the --config file, hocon/node.conf beside the executable, the embedded reference.conf.
/// </summary>
public static class NodeConfig
{
    public static Config Reference { get; } = LoadEmbedded();

    public static (Config Config, NodeSettings Settings) Load(NodeOverrides overrides)
    {
        var config = Reference;
        var besideExe = Path.Combine(AppContext.BaseDirectory, "hocon", "node.conf");
        if (File.Exists(besideExe)) config = ConfigurationFactory.ParseString(File.ReadAllText(besideExe)).WithFallback(config);
        if (overrides.ConfigFile is { } file)
        {
            if (!File.Exists(file)) throw new FileNotFoundException($"config file '{file}' does not exist", file);
            config = ConfigurationFactory.ParseString(File.ReadAllText(file)).WithFallback(config);
        }
        config = Overlay(config, FromEnvironment());
        config = Overlay(config, overrides);

        var node = config.GetConfig("broker.node");
        var dataDir = Path.GetFullPath(node.GetString("data-dir"));
        var newDataDirectory = !Membership.NodeIdentity.Exists(dataDir);
        var settings = new NodeSettings(
            Host: node.GetString("host"),
            Port: node.GetInt("port"),
            Seeds: node.GetStringList("seeds").ToList(),
            Role: node.GetString("role"),
            DataDirectory: dataDir,
            JournalPath: Path.Combine(dataDir, "broker.db"),
            JournalPageSize: node.GetInt("journal-page-size"),
            NodeId: Membership.NodeIdentity.LoadOrCreate(dataDir, node.GetInt("node-id") is > 0 and var wanted ? wanted : null),
            PublicHost: node.GetString("public-host") is { Length: > 0 } publicHost ? publicHost : node.GetString("host"),
            PublicPort: node.GetInt("public-port") is > 0 and var publicPort ? publicPort : node.GetInt("port"),
            JoinTimeout: node.GetTimeSpan("join-timeout"))
        {
            Rack = node.GetString("rack") ?? "",
            NewDataDirectory = newDataDirectory,
            IsrFencePending = Partitions.LostLogFence.Pending(dataDir, newDataDirectory),
            HasVoters = config.GetStringList("broker.metadata.quorum.voters") is { Count: > 0 },
        };
        settings = settings with { KnownPeers = Membership.KnownMembers.Load(dataDir).Where(m => m.NodeId != settings.NodeId).ToList() };
        if (settings.Role is not ("seed" or "worker"))
            throw new ConfigurationException($"role must be 'seed' or 'worker', got '{settings.Role}'");
        if (settings.PublicHost is "0.0.0.0" or "::")
            throw new ConfigurationException($"the node listens on {settings.Host}, which other nodes cannot connect to: set public-host (--public-host, BROKER_PUBLIC_HOST) to the address they reach it at");
        // After the node's own address checks: the Kafka listener advertises the node's public host by default.
        settings = settings with
        {
            Kafka = Kafka.KafkaSettings.Create(config.GetConfig("broker.kafka"), settings.Host, settings.PublicHost, config.GetConfig("broker.security")),
            Http = Monitoring.HttpSettings.Create(config.GetConfig("broker.http"), settings.Host),
            ClusterTls = Security.ClusterTlsSettings.Create(config.GetConfig("broker.security")),
            ClientDoor = Gateway.ClientDoor.ClientDoorSettings.Create(config.GetConfig("broker.client-door"), settings.Host, settings.PublicHost, config.GetConfig("broker.security")),
        };
        if (settings.JournalPageSize is < 512 or > 65536 || (settings.JournalPageSize & (settings.JournalPageSize - 1)) != 0)
            throw new ConfigurationException($"journal-page-size must be a power of two from 512 to 65536, got {settings.JournalPageSize}");
        // The cluster tools' and sharding's own defaults (serializer bindings among them) up front: a worker
        // must decode a peer's pub-sub or sharding message even before its own extension has started.
        var full = Akka(settings).WithFallback(config).WithFallback(SqlPersistence.DefaultConfiguration)
            .WithFallback(global::Akka.Cluster.Tools.PublishSubscribe.DistributedPubSub.DefaultConfig())
            .WithFallback(global::Akka.Cluster.Tools.Singleton.ClusterSingleton.DefaultConfig())
            .WithFallback(global::Akka.Cluster.Sharding.ClusterSharding.DefaultConfig())
            .WithFallback(global::Akka.DistributedData.DistributedData.DefaultConfig());
        return (full, settings);
    }

    private static NodeOverrides FromEnvironment()
    {
        static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        static int? Number(string name) => Env(name) is not { } value ? null
            : int.TryParse(value, out var n) ? n : throw new ConfigurationException($"{name} must be a number, got '{value}'");
        return new NodeOverrides
        {
            Host = Env("BROKER_HOST"),
            Port = Number("BROKER_PORT"),
            PublicHost = Env("BROKER_PUBLIC_HOST"),
            PublicPort = Number("BROKER_PUBLIC_PORT"),
            Seeds = Env("BROKER_SEEDS")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Role = Env("BROKER_ROLE"),
            DataDir = Env("BROKER_DATA_DIR"),
            Rack = Env("BROKER_RACK"),
            NodeId = Number("BROKER_NODE_ID"),
            KafkaPort = Number("BROKER_KAFKA_PORT"),
            KafkaAdvertisedHost = Env("BROKER_KAFKA_ADVERTISED_HOST"),
            KafkaAdvertisedPort = Number("BROKER_KAFKA_ADVERTISED_PORT"),
            HttpPort = Number("BROKER_HTTP_PORT"),
            Voters = Env("BROKER_VOTERS")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            ClusterCa = Env("BROKER_CLUSTER_CA"),
            NodeCert = Env("BROKER_NODE_CERT"),
            NodeKey = Env("BROKER_NODE_KEY"),
        };
    }

    private static Config Overlay(Config config, NodeOverrides o)
    {
        var lines = new List<string>();
        if (o.Host is not null) lines.Add($"broker.node.host = {Quote(o.Host)}");
        if (o.Port is not null) lines.Add($"broker.node.port = {o.Port}");
        if (o.PublicHost is not null) lines.Add($"broker.node.public-host = {Quote(o.PublicHost)}");
        if (o.PublicPort is not null) lines.Add($"broker.node.public-port = {o.PublicPort}");
        if (o.Seeds is not null) lines.Add($"broker.node.seeds = [{string.Join(",", o.Seeds.Select(Quote))}]");
        if (o.Role is not null) lines.Add($"broker.node.role = {Quote(o.Role)}");
        if (o.DataDir is not null) lines.Add($"broker.node.data-dir = {Quote(o.DataDir)}");
        if (o.Rack is not null) lines.Add($"broker.node.rack = {Quote(o.Rack)}");
        if (o.NodeId is not null) lines.Add($"broker.node.node-id = {o.NodeId}");
        if (o.KafkaPort is not null) lines.Add($"broker.kafka.port = {o.KafkaPort}");
        if (o.KafkaEnabled is not null) lines.Add($"broker.kafka.enabled = {(o.KafkaEnabled.Value ? "on" : "off")}");
        if (o.KafkaAdvertisedHost is not null) lines.Add($"broker.kafka.advertised-host = {Quote(o.KafkaAdvertisedHost)}");
        if (o.KafkaAdvertisedPort is not null) lines.Add($"broker.kafka.advertised-port = {o.KafkaAdvertisedPort}");
        if (o.HttpPort is not null) lines.Add($"broker.http.port = {o.HttpPort}");
        if (o.HttpEnabled is not null) lines.Add($"broker.http.enabled = {(o.HttpEnabled.Value ? "on" : "off")}");
        if (o.Voters is not null) lines.Add($"broker.metadata.quorum.voters = [{string.Join(",", o.Voters.Select(Quote))}]");
        if (o.ClusterCa is not null) lines.Add($"broker.security.cluster-ca = {Quote(o.ClusterCa)}");
        if (o.NodeCert is not null) lines.Add($"broker.security.node-cert = {Quote(o.NodeCert)}");
        if (o.NodeKey is not null) lines.Add($"broker.security.node-key = {Quote(o.NodeKey)}");
        return lines.Count == 0 ? config : ConfigurationFactory.ParseString(string.Join("\n", lines)).WithFallback(config);
    }

    /// <summary>
    /// The Akka settings that follow from the node settings: where to listen, which address to advertise, whom
    /// to join, where the journal lives. Akka.Remote only accepts messages addressed to the advertised address,
    /// so seeds (and a node that seeds itself) are named by advertised addresses, never bind addresses.
    /// </summary>
    private static Config Akka(NodeSettings s)
    {
        IEnumerable<string> seeds = s.Seeds.Count == 0 ? [$"{s.PublicHost}:{s.PublicPort}"] : s.Seeds;
        // The members this data directory last ran with are seeds too, after the configured ones (so a node that
        // seeds itself stays first and still forms a cluster when nobody answers): a restarted seed rejoins the
        // running cluster instead of starting an island of one.
        seeds = seeds.Concat(s.KnownPeers.Select(m => m.Address)).Distinct(StringComparer.Ordinal);
        // On a metadata quorum a node that has been a member never forms a cluster by being its own first seed:
        // the configured seed could form one while the quorum's controller forms another (seen in the nemesis: the
        // seed, restarted, stayed alone and Joining for good). It looks for the others; the controller forms it.
        var self = $"{s.PublicHost}:{s.PublicPort}";
        if (s.HasVoters && s.KnownPeers.Count > 0) seeds = seeds.Where(seed => seed != self);
        var seedUris = string.Join(",", seeds.Select(seed => Quote($"{Security.ClusterTls.Scheme(s.ClusterTls is not null)}://{BrokerNode.SystemName}@{seed}")));
        var connection = Quote($"Data Source={s.JournalPath};Pooling=True;Default Timeout=60");
        return ConfigurationFactory.ParseString($"""
            akka.remote.dot-netty.tcp.hostname = {Quote(s.Host)}
            akka.remote.dot-netty.tcp.port = {s.Port}
            akka.remote.dot-netty.tcp.public-hostname = {Quote(s.PublicHost)}
            akka.remote.dot-netty.tcp.public-port = {s.PublicPort}
            akka.cluster.seed-nodes = [{seedUris}]
            akka.cluster.min-nr-of-members = {s.MinMembers}
            akka.cluster.roles = [{string.Join(", ", Roles(s).Select(Quote))}]
            broker.node.isr-fence-directory = {Quote(s.IsrFencePending ? s.DataDirectory : "")}
            akka.cluster.distributed-data.durable.sqlite.path = {Quote(Path.Combine(s.DataDirectory, "metadata.db"))}
            akka.persistence.journal.sql.connection-string = {connection}
            akka.persistence.snapshot-store.sql.connection-string = {connection}
            """);
    }

    /// <summary>seed/worker, the node id, and the rack if any: every member learns the others' ids and racks from their roles.</summary>
    private static IEnumerable<string> Roles(NodeSettings s)
    {
        yield return s.Role;
        yield return Membership.NodeIdentity.Role(s.NodeId);
        if (s.Rack.Length > 0) yield return Membership.NodeIdentity.RackRole(s.Rack);
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static Config LoadEmbedded()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Broker.Server.reference.conf")
            ?? throw new InvalidOperationException("Broker.Server.reference.conf is not embedded");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd()).WithFallback(ProtocolConfig.Default);
    }
}
