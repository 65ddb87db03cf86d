// Producer settings, named after Kafka's producer configs (acks, linger.ms, batch.size, ...).
using Broker.Protocol.Records.Compression;

namespace Broker.Client;

/// <summary>Settings of a <see cref="Producer"/>.</summary>
public sealed class ProducerConfig : ClientConfig
{
    /// <summary>What a delivery waits for (Kafka's <c>acks</c>; default <see cref="Acks.All"/>).</summary>
    public Acks Acks { get; set; } = Acks.All;

    /// <summary>How long a partly filled batch waits for more records before it is sent (Kafka's <c>linger.ms</c>; default 5).</summary>
    public int LingerMs { get; set; } = 5;

    /// <summary>A partition's batch is sent once it reaches this many bytes (Kafka's <c>batch.size</c>; default 16384).</summary>
    public int BatchSize { get; set; } = 16384;

    /// <summary>Produce requests outstanding at once (Kafka's <c>max.in.flight.requests.per.connection</c>; default 5).</summary>
    public int MaxInFlight { get; set; } = 5;

    /// <summary>Largest produce request in bytes; a larger record fails with <c>RecordTooLarge</c> without being sent (default 1 MiB).</summary>
    public int MaxRequestSize { get; set; } = 1048576;

    /// <summary>
    /// Bytes of records waiting to be sent or acknowledged; when full, Produce/ProduceAsync block until
    /// deliveries free space or <see cref="ClientConfig.RequestTimeout"/> passes (Kafka's <c>buffer.memory</c>; default 32 MiB).
    /// </summary>
    public long BufferMemory { get; set; } = 32L * 1024 * 1024;

    /// <summary>
    /// How each batch's records are compressed (Kafka's <c>compression.type</c>: none, gzip, snappy, lz4, zstd; default
    /// <see cref="CompressionCodec.None"/>). A batch is compressed once when it is sent, in Kafka's framing, so any Kafka
    /// client can read it; the node stores it as sent. <see cref="BatchSize"/> and <see cref="MaxRequestSize"/> count
    /// records uncompressed, as Kafka's producer does; <c>CompressionCodecs.TryParse</c> reads the names.
    /// </summary>
    public CompressionCodec CompressionType { get; set; } = CompressionCodec.None;

    /// <summary>
    /// Whether the producer numbers its batches so the partition stores a retried batch once (Kafka's
    /// <c>enable.idempotence</c>). Default (null): on when <see cref="Acks"/> is <see cref="Acks.All"/>, as in Kafka.
    /// An idempotent producer retries what a failover or a lost reply left unconfirmed (NotLeader,
    /// LeaderNotAvailable, NotEnoughReplicas, RequestTimedOut, BrokerNotAvailable) until <see cref="DeliveryTimeout"/>;
    /// without idempotence nothing is retried and such errors reach the caller. True with another Acks is refused.
    /// </summary>
    public bool? EnableIdempotence { get; set; }

    /// <summary>
    /// How long a record may take from <c>Produce</c> to its report, retries included (Kafka's <c>delivery.timeout.ms</c>;
    /// default 120 s, at least <see cref="ClientConfig.RequestTimeout"/>). Past it a retriable error is reported.
    /// </summary>
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long an idempotent producer waits before it sends a failed batch again (Kafka's <c>retry.backoff.ms</c>; default 100).</summary>
    public int RetryBackoffMs { get; set; } = 100;

    /// <summary>Idempotence as it applies: the setting, or on by default with acks=all.</summary>
    internal bool IsIdempotent => EnableIdempotence ?? Acks == Acks.All;
}
