// What the producer knows about one topic: its partition count, open batches and sticky partition.
using System.Text;

namespace Broker.Client.Producing;

/// <summary>Mutable only under the accumulator's lock, except the immutable name and partition count.</summary>
internal sealed class TopicState
{
    public TopicState(string name, int partitionCount)
    {
        Name = name;
        PartitionCount = partitionCount;
        NameBytes = Encoding.UTF8.GetByteCount(name);
        Open = new ProducerBatch?[partitionCount];
        NextSequence = new int[partitionCount];
    }

    public string Name { get; }
    public int PartitionCount { get; }

    /// <summary>UTF-8 length of the name, for sizing requests.</summary>
    public int NameBytes { get; }

    /// <summary>Per partition, the producer sequence the next batch starts at (idempotent producers; reset with a new producer id).</summary>
    public int[] NextSequence { get; }

    /// <summary>The batch each partition is filling, or null.</summary>
    public ProducerBatch?[] Open { get; }

    /// <summary>Where keyless records go until that partition's batch closes; -1 = choose again.</summary>
    public int StickyPartition { get; set; } = -1;

    /// <summary>The sticky partition before the current one, so the next choice can avoid it.</summary>
    public int PreviousStickyPartition { get; set; } = -1;
}
