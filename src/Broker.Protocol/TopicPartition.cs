namespace Broker.Protocol;

/// <summary>
/// One partition of a topic: the one type node, assignors and client name it with. Orders by topic (ordinal)
/// then partition, the order assignors list their output in; prints <c>orders/3</c>, as the node's log and
/// error messages spell it.
/// </summary>
public readonly record struct TopicPartition(string Topic, int Partition) : IComparable<TopicPartition>
{
    /// <inheritdoc />
    public int CompareTo(TopicPartition other)
    {
        var byTopic = string.CompareOrdinal(Topic, other.Topic);
        return byTopic != 0 ? byTopic : Partition.CompareTo(other.Partition);
    }

    public override string ToString() => $"{Topic}/{Partition}";
}
