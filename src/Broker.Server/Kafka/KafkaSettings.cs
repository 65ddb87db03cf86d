using Akka.Configuration;

namespace Broker.Server.Kafka;

/// <summary>
/// The Kafka listener's settings (<c>broker.kafka</c>): where it listens, the address Metadata hands to
/// clients for this node, and its limits. Empty host / zero advertised port fall back to the node's own
/// listen and advertised addresses and to the port actually bound.
/// </summary>
public sealed record KafkaSettings(bool Enabled, string Host, int Port, string AdvertisedHost, int AdvertisedPort, int MaxFrameBytes, int MaxInFlightPerConnection,
    int MaxFetchSessions)
{
    /// <summary>
    /// Kafka's auto.create.topics.enable: Metadata for a topic that does not exist creates it, with
    /// <see cref="NumPartitions"/> partitions and <see cref="DefaultReplicationFactor"/> replicas (-1: min(3, live nodes)).
    /// Off by default, unlike Kafka: a typo in a consumer's topic name would otherwise create a topic nobody writes to.
    /// </summary>
    public bool AutoCreateTopics { get; init; }

    public int NumPartitions { get; init; } = 1;

    public short DefaultReplicationFactor { get; init; } = -1;

    /// <summary>
    /// How long the listener waits for a group coordinator's answer to a heartbeat, commit, offset fetch, leave or
    /// describe before it answers NOT_COORDINATOR itself (<see cref="CoordinatorWait"/>). Below every client's
    /// heartbeat timeout (librdkafka's is its session timeout; Kafka's smallest is 6 s), so one slow request never holds
    /// the answers behind it until the client drops the connection and resends every commit in flight on it.
    /// </summary>
    public TimeSpan GroupRequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>TLS on the listener (security-protocol = SSL), or null for PLAINTEXT, the default.</summary>
    public Security.KafkaTlsSettings? Ssl { get; init; }

    /// <summary>SASL authentication (security-protocol SASL_PLAINTEXT or SASL_SSL), or null.</summary>
    public Security.Sasl.KafkaSaslSettings? Sasl { get; init; }

    public static KafkaSettings Create(Config kafka, string nodeHost, string nodePublicHost, Config? security = null) =>
        Read(kafka, nodeHost, nodePublicHost) with
        {
            Ssl = Security.KafkaTlsSettings.Create(kafka, security ?? ConfigurationFactory.Empty),
            Sasl = Security.Sasl.KafkaSaslSettings.Create(kafka),
        };

    private static KafkaSettings Read(Config kafka, string nodeHost, string nodePublicHost)
    {
        var settings = new KafkaSettings(
            Enabled: kafka.GetBoolean("enabled"),
            Host: kafka.GetString("host") is { Length: > 0 } host ? host : nodeHost,
            Port: kafka.GetInt("port"),
            AdvertisedHost: kafka.GetString("advertised-host") is { Length: > 0 } advertised ? advertised : nodePublicHost,
            AdvertisedPort: kafka.GetInt("advertised-port"),
            MaxFrameBytes: kafka.GetInt("max-frame-bytes"),
            MaxInFlightPerConnection: kafka.GetInt("max-in-flight-per-connection"),
            MaxFetchSessions: kafka.GetInt("max-incremental-fetch-session-cache-slots"))
        {
            AutoCreateTopics = kafka.GetBoolean("auto-create-topics-enable"),
            NumPartitions = kafka.GetInt("num-partitions"),
            DefaultReplicationFactor = (short)kafka.GetInt("default-replication-factor"),
            GroupRequestTimeout = kafka.GetTimeSpan("group-request-timeout"),
        };
        if (settings.Port is < 0 or > 65535)
            throw new ConfigurationException($"broker.kafka.port must be 0 to 65535, got {settings.Port}");
        if (settings.AdvertisedHost is "0.0.0.0" or "::")
            throw new ConfigurationException($"the Kafka listener would advertise {settings.AdvertisedHost}, which clients cannot connect to: set broker.kafka.advertised-host");
        if (settings.MaxFrameBytes < 1024)
            throw new ConfigurationException($"broker.kafka.max-frame-bytes must be at least 1024, got {settings.MaxFrameBytes}");
        if (settings.MaxInFlightPerConnection < 1)
            throw new ConfigurationException($"broker.kafka.max-in-flight-per-connection must be at least 1, got {settings.MaxInFlightPerConnection}");
        if (settings.MaxFetchSessions < 0)
            throw new ConfigurationException($"broker.kafka.max-incremental-fetch-session-cache-slots must be 0 (no fetch sessions) or more, got {settings.MaxFetchSessions}");
        if (settings.GroupRequestTimeout <= TimeSpan.Zero)
            throw new ConfigurationException($"broker.kafka.group-request-timeout must be positive, got {settings.GroupRequestTimeout}");
        if (settings.NumPartitions < 1)
            throw new ConfigurationException($"broker.kafka.num-partitions must be at least 1, got {settings.NumPartitions}");
        if (settings.DefaultReplicationFactor is 0 or < -1)
            throw new ConfigurationException($"broker.kafka.default-replication-factor must be -1 (min(3, live nodes)) or at least 1, got {settings.DefaultReplicationFactor}");
        return settings;
    }
}
