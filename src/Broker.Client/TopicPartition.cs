namespace Broker.Client;

public readonly record struct TopicPartition(string Topic, int Partition)
{
    public override string ToString() => $"{Topic}/{Partition}";
}

/// <summary>A partition and a position in it; <see cref="Client.Offset"/> has the special positions.</summary>
public readonly record struct TopicPartitionOffset(string Topic, int Partition, long Offset)
{
    public TopicPartition TopicPartition => new(Topic, Partition);
}

/// <summary>Special positions for Assign and Seek.</summary>
public static class Offset
{
    /// <summary>The first offset still in the log.</summary>
    public const long Beginning = -2;

    /// <summary>The end of the log: only records produced from now on.</summary>
    public const long End = -1;
}
