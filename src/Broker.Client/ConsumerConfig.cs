// Consumer settings, named after Kafka's fetch configs.
namespace Broker.Client;

/// <summary>Settings of a <see cref="Consumer"/>.</summary>
public sealed class ConsumerConfig : ClientConfig
{
    /// <summary>Bytes one fetch of one partition may return (at least one batch is returned even if larger; default 1 MiB).</summary>
    public int FetchMaxBytes { get; set; } = 1048576;

    /// <summary>How long the broker holds a fetch at the end of the log waiting for new records (Kafka's <c>fetch.max.wait.ms</c>; default 500).</summary>
    public int FetchMaxWaitMs { get; set; } = 500;
}
