namespace Broker.Server.Groups.Assignment;

/// <summary>
/// One partition of a topic, as handed to a consumer group member. Orders by topic (ordinal) then
/// partition, the order every assignor lists its output in.
/// </summary>
public readonly record struct AssignedPartition(string Topic, int Partition) : IComparable<AssignedPartition>
{
    /// <inheritdoc />
    public int CompareTo(AssignedPartition other)
    {
        int byTopic = string.CompareOrdinal(Topic, other.Topic);
        return byTopic != 0 ? byTopic : Partition.CompareTo(other.Partition);
    }

    /// <summary>Kafka's spelling of a topic-partition (<c>orders-3</c>), so logs and test failures read the same.</summary>
    public override string ToString() => $"{Topic}-{Partition}";
}
