namespace Broker.Client;

/// <summary>Settings every client shares.</summary>
public class ClientConfig
{
    /// <summary>One or more node addresses, "host:port[,host:port...]". The client tries them in order and fails over.</summary>
    public string BootstrapServers { get; set; } = "127.0.0.1:9190";

    /// <summary>How long to wait for a node to answer one request.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>How many acknowledgements a produce waits for, as Kafka's acks.</summary>
public enum Acks : short
{
    /// <summary>Send and do not wait: nothing confirms the record was stored.</summary>
    None = 0,
    /// <summary>Wait until the partition has persisted the batch.</summary>
    Leader = 1,
    /// <summary>Wait for every replica (the same as Leader until replication lands).</summary>
    All = -1,
}

/// <summary>Producer settings, named after Kafka's producer configs.</summary>
public sealed class ProducerConfig : ClientConfig
{
    public Acks Acks { get; set; } = Acks.All;

    /// <summary>linger.ms: how long a batch waits for more records before it is sent.</summary>
    public int LingerMs { get; set; } = 5;

    /// <summary>batch.size: bytes at which a partition's batch is closed and sent.</summary>
    public int BatchSize { get; set; } = 16384;

    /// <summary>max.in.flight.requests.per.connection: produce requests outstanding at once.</summary>
    public int MaxInFlight { get; set; } = 5;

    /// <summary>max.request.size: the largest produce request, and so the largest record.</summary>
    public int MaxRequestSize { get; set; } = 1048576;

    /// <summary>buffer.memory: bytes of records waiting to be sent before Produce blocks.</summary>
    public long BufferMemory { get; set; } = 32 * 1024 * 1024;
}

/// <summary>Consumer settings, named after Kafka's consumer configs.</summary>
public sealed class ConsumerConfig : ClientConfig
{
    /// <summary>fetch.max.bytes: the most bytes one fetch of one partition returns (at least one batch).</summary>
    public int FetchMaxBytes { get; set; } = 1048576;

    /// <summary>fetch.max.wait.ms: how long a fetch at the end of the log waits for new records.</summary>
    public int FetchMaxWaitMs { get; set; } = 500;
}
