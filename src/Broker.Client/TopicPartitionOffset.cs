// A position in a partition, as the consumer reads and commits it. The partition itself is
// Broker.Protocol.TopicPartition, the one type node, assignors and client share.
using Broker.Protocol;

namespace Broker.Client;

/// <summary>A partition and an offset in it; the offset may be <see cref="Client.Offset.Beginning"/> or <see cref="Client.Offset.End"/>.</summary>
public readonly record struct TopicPartitionOffset(string Topic, int Partition, long Offset)
{
    public TopicPartition TopicPartition => new(Topic, Partition);

    public override string ToString() => $"{Topic}/{Partition}@{Offset}";
}
