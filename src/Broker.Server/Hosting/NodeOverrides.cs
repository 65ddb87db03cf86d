namespace Broker.Server.Hosting;

/// <summary>
/// What a person can override when starting a node, highest precedence first:
/// command-line flags (these properties), then environment variables (BROKER_HOST, BROKER_PORT,
/// BROKER_PUBLIC_HOST, BROKER_PUBLIC_PORT, BROKER_SEEDS, BROKER_ROLE, BROKER_DATA_DIR, BROKER_RACK, BROKER_NODE_ID, BROKER_KAFKA_PORT,
/// BROKER_KAFKA_ADVERTISED_HOST, BROKER_KAFKA_ADVERTISED_PORT, BROKER_HTTP_PORT, BROKER_VOTERS, BROKER_CLUSTER_CA, BROKER_NODE_CERT, BROKER_NODE_KEY), then the --config file, then hocon/node.conf beside
/// the executable, then the defaults embedded in Broker.Server (reference.conf).
/// </summary>
public sealed record NodeOverrides
{
    public string? ConfigFile { get; init; }
    /// <summary>Address to listen on (and to advertise, unless <see cref="PublicHost"/> is set).</summary>
    public string? Host { get; init; }
    /// <summary>Port to listen on (and to advertise, unless <see cref="PublicPort"/> is set).</summary>
    public int? Port { get; init; }
    /// <summary>Host other nodes and clients reach this node at, when it is not the listen address (containers, NAT).</summary>
    public string? PublicHost { get; init; }
    /// <summary>Port other nodes and clients reach this node at, when it is not the listen port (a published container port).</summary>
    public int? PublicPort { get; init; }
    /// <summary>Seed nodes as host:port; empty or null means this node is its own seed.</summary>
    public IReadOnlyList<string>? Seeds { get; init; }
    /// <summary>"seed" or "worker".</summary>
    public string? Role { get; init; }
    public string? DataDir { get; init; }
    /// <summary>The rack or zone the node is in (Kafka's broker.rack): consumers with the same ClientRack read from replicas here.</summary>
    public string? Rack { get; init; }
    /// <summary>The broker id to give a new data directory (Kafka's node.id); an existing one keeps its stored id.</summary>
    public int? NodeId { get; init; }
    /// <summary>Port of the Kafka wire-protocol listener (broker.kafka.port; 0 picks a free one).</summary>
    public int? KafkaPort { get; init; }
    /// <summary>False turns the Kafka listener off (broker.kafka.enabled).</summary>
    public bool? KafkaEnabled { get; init; }
    /// <summary>Host Metadata gives Kafka clients for this node (broker.kafka.advertised-host; default the public host).</summary>
    public string? KafkaAdvertisedHost { get; init; }
    /// <summary>Port Metadata gives Kafka clients for this node, when not the listening port (a published container port).</summary>
    public int? KafkaAdvertisedPort { get; init; }
    /// <summary>Port of the web page, /api, /metrics and /health (broker.http.port; 0 picks a free one).</summary>
    public int? HttpPort { get; init; }
    /// <summary>False turns the web page, /api, /metrics and /health off (broker.http.enabled).</summary>
    public bool? HttpEnabled { get; init; }
    /// <summary>The metadata quorum's voters as <c>id@ip:port</c> (broker.metadata.quorum.voters, Kafka's controller.quorum.voters).</summary>
    public IReadOnlyList<string>? Voters { get; init; }
    /// <summary>The cluster CA's certificate (PEM); setting it turns mutual TLS between nodes on (broker.security.cluster-ca).</summary>
    public string? ClusterCa { get; init; }
    /// <summary>This node's certificate (PEM) from the cluster CA (broker.security.node-cert).</summary>
    public string? NodeCert { get; init; }
    /// <summary>This node's private key (PEM) (broker.security.node-key).</summary>
    public string? NodeKey { get; init; }
}
