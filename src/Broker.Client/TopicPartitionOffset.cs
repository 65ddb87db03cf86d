// A position in a partition, as the consumer reads and commits it. The partition itself is
// Broker.Protocol.TopicPartition, the one type node, assignors and client share.
using Broker.Protocol;

namespace Broker.Client;

/// <summary>A partition and an offset in it; the offset may be <see cref="Client.Offset.Beginning"/> or <see cref="Client.Offset.End"/>.</summary>
public readonly record struct TopicPartitionOffset(string Topic, int Partition, long Offset)
{
    /// <summary>The partition, without the offset.</summary>
    public TopicPartition TopicPartition => new(Topic, Partition);

    /// <summary><c>topic/partition@offset</c>, e.g. <c>orders/3@42</c>.</summary>
    public override string ToString() => $"{Topic}/{Partition}@{Offset}";
}
