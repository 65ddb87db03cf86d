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
    Broker.Server.Groups.GroupSettings Groups)
{
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
            Groups: Broker.Server.Groups.GroupSettings.Create(b));
    }
}
