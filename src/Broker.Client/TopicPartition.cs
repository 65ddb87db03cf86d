// Partition and position identifiers used by the consumer.
namespace Broker.Client;

/// <summary>One partition of a topic.</summary>
public readonly record struct TopicPartition(string Topic, int Partition)
{
    public override string ToString() => $"{Topic}/{Partition}";
}

/// <summary>A partition and an offset in it; the offset may be <see cref="Client.Offset.Beginning"/> or <see cref="Client.Offset.End"/>.</summary>
public readonly record struct TopicPartitionOffset(string Topic, int Partition, long Offset)
{
    public TopicPartition TopicPartition => new(Topic, Partition);

    public override string ToString() => $"{Topic}/{Partition}@{Offset}";
}
