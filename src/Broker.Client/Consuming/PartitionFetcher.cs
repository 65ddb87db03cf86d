// One assigned partition inside the consumer: its position, its outstanding request and its prefetched responses.
using Broker.Protocol;

namespace Broker.Client.Consuming;

/// <summary>Touched only by the consumer's calling thread; replies reach it through the consumer's completion queue.</summary>
internal sealed class PartitionFetcher(string topic, int partition, long position)
{
    public string Topic { get; } = topic;
    public int Partition { get; } = partition;
    public TopicPartition TopicPartition => new(Topic, Partition);

    /// <summary>Next offset to hand out; <see cref="Offset.Beginning"/> or <see cref="Offset.End"/> until resolved.</summary>
    public long Position { get; set; } = position;

    /// <summary>Next offset to fetch: the end of what is buffered.</summary>
    public long FetchOffset { get; set; } = position;

    public bool IsResolved => Position >= 0;

    /// <summary>Bumped by Seek and by a synchronous resolve: replies to older requests are dropped.</summary>
    public int Generation { get; set; }

    /// <summary>The partition's leader epoch from the last fetch answer (-1: not known yet); sent with the next fetch (KIP-320).</summary>
    public int LeaderEpoch { get; set; } = -1;

    /// <summary>A fetch or list-offsets request is in flight.</summary>
    public bool Outstanding { get; set; }

    /// <summary>No longer assigned: late replies are dropped.</summary>
    public bool Detached { get; set; }

    /// <summary>Fetched responses not yet read, oldest first (each zero or more record batches).</summary>
    public Queue<ReadOnlyMemory<byte>> Buffered { get; } = new();

    public long BufferedBytes { get; set; }

    /// <summary>An error to throw from Consume once buffered records are read.</summary>
    public BrokerException? Error { get; set; }

    /// <summary>Sticky errors (OffsetOutOfRange, UnknownTopic, ...) stop the partition until Seek or Assign; others are thrown once and retried.</summary>
    public bool ErrorIsSticky { get; set; }

    public void Reset(long position)
    {
        Generation++;
        Outstanding = false;
        Buffered.Clear();
        BufferedBytes = 0;
        Error = null;
        ErrorIsSticky = false;
        Position = position;
        FetchOffset = position;
    }
}
