// One partition's batch inside the producer, from its first record until its deliveries are reported. Pooled.
using Broker.Protocol.Records;

namespace Broker.Client.Producing;

/// <summary>
/// The records go into a <see cref="RecordBatchBuilder"/> the accumulator lends the batch from its first record
/// until it is sent: sending copies the finished bytes into the request, so the builder goes back to the
/// accumulator's pool then, and what waits for the reply is only the list of deliveries.
/// </summary>
internal sealed class ProducerBatch
{
    private Delivery[] _deliveries = new Delivery[128];

    public RecordBatchBuilder? Builder { get; private set; }
    public TopicState Topic { get; private set; } = null!;
    public int Partition { get; private set; }

    /// <summary>Creation order; a flush waits for every batch created before it.</summary>
    public long Sequence { get; private set; }

    /// <summary>Environment.TickCount64 when the batch was opened: linger counts from here.</summary>
    public long CreatedAt { get; private set; }

    /// <summary>Index in the accumulator's open list while open, else -1.</summary>
    public int OpenIndex { get; set; } = -1;

    /// <summary>The finished RecordBatch v2 bytes, in the builder's buffer, from <see cref="Close"/> until the batch is sent.</summary>
    public ReadOnlyMemory<byte> Bytes { get; private set; }

    /// <summary>Sum of the size estimates of its records: what it holds of the producer's buffer memory.</summary>
    public long BufferedBytes { get; private set; }

    /// <summary>Per record, who to tell its outcome.</summary>
    public ReadOnlySpan<Delivery> Deliveries => _deliveries.AsSpan(0, DeliveryCount);

    public int DeliveryCount { get; private set; }

    /// <summary>Bytes this batch adds to a produce request: its bytes, topic name and the per-partition fields.</summary>
    public int RequestBytes => (Builder?.SizeInBytes ?? Sent.Length) + Topic.NameBytes + 16;

    // ---- idempotence: the batch's identity on the wire, kept for retries ----

    /// <summary>The producer sequence of its first record once it has been sent with a producer id, else -1.</summary>
    public int BaseSequence { get; private set; } = -1;

    /// <summary>The bytes as the last request carried them (a slice of that request's frame): what a retry sends again, unchanged.</summary>
    public ReadOnlyMemory<byte> Sent { get; set; }

    /// <summary>The bytes to put in the next request: the builder's on the first send, the same bytes as before on a retry.</summary>
    public ReadOnlyMemory<byte> SendBytes => Builder is not null ? Bytes : Sent;

    /// <summary>Environment.TickCount64 past which the batch is not retried any more (<see cref="ProducerConfig.DeliveryTimeout"/>).</summary>
    public long DeliveryDeadline { get; private set; }

    /// <summary>When a failed batch may be sent again.</summary>
    public long RetryAt { get; set; }

    /// <summary>Times it was sent again after a retriable failure.</summary>
    public int Retries { get; set; }

    public void Start(TopicState topic, int partition, long sequence, long now, RecordBatchBuilder builder, long deliveryTimeoutMs)
    {
        Topic = topic;
        Partition = partition;
        Sequence = sequence;
        CreatedAt = now;
        Builder = builder;
        DeliveryDeadline = now + deliveryTimeoutMs;
    }

    /// <summary>Whether <paramref name="other"/> goes to the same partition (topics are one <see cref="TopicState"/> each).</summary>
    public bool SamePartitionAs(ProducerBatch other) => ReferenceEquals(Topic, other.Topic) && Partition == other.Partition;

    /// <summary>Whether <paramref name="other"/> goes to the same partition and was created before this one.</summary>
    public bool IsOlderOfSamePartition(ProducerBatch other) => SamePartitionAs(other) && other.Sequence < Sequence;

    /// <summary>Stamps producer id, epoch and this partition's next sequence on the closed batch (before its first send).</summary>
    public void StampProducer(long producerId, short epoch, int baseSequence)
    {
        RecordBatch.SetProducer(System.Runtime.InteropServices.MemoryMarshal.AsMemory(Bytes).Span, producerId, epoch, baseSequence);
        ProducerId = producerId;
        BaseSequence = baseSequence;
    }

    /// <summary>The producer id stamped on it, or -1.</summary>
    public long ProducerId { get; private set; } = -1;

    public void Add(Delivery delivery, int estimate)
    {
        if (DeliveryCount == _deliveries.Length) Array.Resize(ref _deliveries, _deliveries.Length * 2);
        _deliveries[DeliveryCount++] = delivery;
        BufferedBytes += estimate;
    }

    /// <summary>Writes the batch header and CRC in place; no more records after this.</summary>
    public void Close() => Bytes = Builder!.BuildInPlace();

    /// <summary>Hands the builder back (emptied) once its bytes are copied into a request, or null if already returned.</summary>
    public RecordBatchBuilder? TakeBuilder()
    {
        var builder = Builder;
        Builder = null;
        Bytes = default;
        builder?.Reset();
        return builder;
    }

    /// <summary>Ready for reuse from the pool (the builder must have been taken back).</summary>
    public void Clear()
    {
        Array.Clear(_deliveries, 0, DeliveryCount);
        DeliveryCount = 0;
        BufferedBytes = 0;
        Topic = null!;
        OpenIndex = -1;
        BaseSequence = -1;
        ProducerId = -1;
        Sent = default;
        RetryAt = 0;
        Retries = 0;
    }
}
