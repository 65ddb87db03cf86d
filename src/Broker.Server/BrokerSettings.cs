using Akka.Configuration;

namespace Broker.Server;

/// <summary>The broker's own settings, read once from the <c>broker</c> HOCON section; actors get this, never raw config.</summary>
public sealed record BrokerSettings(
    int MaxRequestBytes,
    int DefaultMaxMessageBytes,
    long TailCacheBytes,
    int SnapshotEveryBatches,
    long SnapshotEveryBytes,
    TimeSpan RetentionCheckInterval,
    TimeSpan RegistryTimeout,
    long DefaultRetentionMs,
    long DefaultRetentionBytes,
    TimeSpan RequestTimeout,
    TimeSpan ClusterStatusTimeout,
    Broker.Server.Groups.GroupSettings Groups)
{
    /// <summary>How long a metadata-store read or write may wait for a majority of nodes.</summary>
    public TimeSpan MetadataTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The data directory of a node that must leave every ISR before running replicas (<see cref="Partitions.LostLogFence"/>); null when none.</summary>
    public string? IsrFenceDirectory { get; init; }
    /// <summary>Kafka's replica.lag.time.max.ms: a follower not caught up for this long leaves the ISR.</summary>
    public TimeSpan ReplicaLagTimeMax { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan IsrCheckInterval { get; init; } = TimeSpan.FromSeconds(1);
    public int ReplicaFetchMaxBytes { get; init; } = 4 * 1024 * 1024;
    /// <summary>How long a leader holds a follower's fetch when it has nothing new (Kafka's replica.fetch.wait.max.ms).</summary>
    public TimeSpan ReplicaFetchWait { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>How long past the wait a follower waits for an answer before it sends the fetch again (the leader may have died).</summary>
    public TimeSpan ReplicaFetchTimeout { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan ReplicaFetchBackoff { get; init; } = TimeSpan.FromMilliseconds(250);
    /// <summary>The most fetch-answer bytes a leader node has queued toward one follower node (<see cref="Partitions.ReplicationBudget{TNode}"/>).</summary>
    public long ReplicationMaxBytesInFlightPerNode { get; init; } = 8 * 1024 * 1024;
    /// <summary>The most a compressed batch's records may expand to when a leader validates them.</summary>
    public int MaxDecompressedBatchBytes { get; init; } = 64 * 1024 * 1024;
    /// <summary>Kafka's producer.id.expiration.ms: how long a partition remembers an idempotent producer after its newest batch.</summary>
    public TimeSpan ProducerIdExpiration { get; init; } = TimeSpan.FromHours(24);

    public static BrokerSettings Create(Config config)
    {
        var b = config.GetConfig("broker") ?? throw new ConfigurationException("missing broker { } section");
        return new BrokerSettings(
            MaxRequestBytes: b.GetInt("limits.max-request-bytes"),
            DefaultMaxMessageBytes: b.GetInt("limits.max-message-bytes"),
            TailCacheBytes: b.GetLong("partition.tail-cache-bytes"),
            SnapshotEveryBatches: b.GetInt("partition.snapshot-every-batches"),
            SnapshotEveryBytes: b.GetLong("partition.snapshot-every-bytes"),
            RetentionCheckInterval: b.GetTimeSpan("partition.retention-check-interval"),
            RegistryTimeout: b.GetTimeSpan("partition.registry-timeout"),
            DefaultRetentionMs: b.GetLong("topic-defaults.retention-ms"),
            DefaultRetentionBytes: b.GetLong("topic-defaults.retention-bytes"),
            RequestTimeout: b.GetTimeSpan("gateway.request-timeout"),
            ClusterStatusTimeout: b.GetTimeSpan("gateway.cluster-status-timeout"),
            Groups: Broker.Server.Groups.GroupSettings.Create(b))
        {
            MetadataTimeout = b.GetTimeSpan("metadata.timeout"),
            IsrFenceDirectory = b.GetString("node.isr-fence-directory") is { Length: > 0 } fence ? fence : null,
            ReplicaLagTimeMax = b.GetTimeSpan("replication.replica-lag-time-max"),
            IsrCheckInterval = b.GetTimeSpan("replication.isr-check-interval"),
            ReplicaFetchMaxBytes = b.GetInt("replication.fetch-max-bytes"),
            ReplicaFetchWait = b.GetTimeSpan("replication.fetch-wait"),
            ReplicaFetchTimeout = b.GetTimeSpan("replication.fetch-timeout"),
            ReplicaFetchBackoff = b.GetTimeSpan("replication.fetch-backoff"),
            ReplicationMaxBytesInFlightPerNode = b.GetLong("replication.max-bytes-in-flight-per-node"),
            ProducerIdExpiration = b.GetTimeSpan("partition.producer-id-expiration"),
            MaxDecompressedBatchBytes = b.GetInt("limits.max-decompressed-batch-bytes"),
        };
    }
}
