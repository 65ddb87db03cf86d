// One partition's batch inside the producer, from its first record until its deliveries are reported. Pooled.
using Broker.Protocol.Records;

namespace Broker.Client.Producing;

internal sealed class ProducerBatch
{
    private object[] _deliveries = new object[128];

    public ProducerBatch(int capacity)
    {
        Builder = new RecordBatchBuilder(capacity);
    }

    public RecordBatchBuilder Builder { get; }
    public TopicState Topic { get; private set; } = null!;
    public int Partition { get; private set; }

    /// <summary>Creation order; a flush waits for every batch created before it.</summary>
    public long Sequence { get; private set; }

    /// <summary>Environment.TickCount64 when the batch was opened: linger counts from here.</summary>
    public long CreatedAt { get; private set; }

    /// <summary>Index in the engine's open list while open, else -1.</summary>
    public int OpenIndex { get; set; } = -1;

    /// <summary>The finished RecordBatch v2 bytes, once closed.</summary>
    public byte[]? Bytes { get; private set; }

    /// <summary>Sum of the size estimates of its records: what it holds of the producer's buffer memory.</summary>
    public long BufferedBytes { get; private set; }

    /// <summary>Per record: a TaskCompletionSource&lt;DeliveryResult&gt; or a callback.</summary>
    public ReadOnlySpan<object> Deliveries => _deliveries.AsSpan(0, DeliveryCount);

    public int DeliveryCount { get; private set; }

    /// <summary>Bytes this batch adds to a produce request: its bytes, topic name and the per-partition fields.</summary>
    public int RequestBytes => (Bytes?.Length ?? Builder.SizeInBytes) + Topic.NameBytes + 16;

    public void Start(TopicState topic, int partition, long sequence, long now)
    {
        Topic = topic;
        Partition = partition;
        Sequence = sequence;
        CreatedAt = now;
    }

    public void Add(object delivery, int estimate)
    {
        if (DeliveryCount == _deliveries.Length) Array.Resize(ref _deliveries, _deliveries.Length * 2);
        _deliveries[DeliveryCount++] = delivery;
        BufferedBytes += estimate;
    }

    /// <summary>Writes the batch header and CRC; the builder is free for the next batch after this.</summary>
    public void Close()
    {
        Bytes = Builder.Build();
        Builder.Reset();
    }

    /// <summary>Ready for reuse from the pool.</summary>
    public void Clear()
    {
        Array.Clear(_deliveries, 0, DeliveryCount);
        DeliveryCount = 0;
        BufferedBytes = 0;
        Bytes = null;
        Topic = null!;
        OpenIndex = -1;
        Builder.Reset();
    }
}
