namespace Broker.Protocol.Records;

/// <summary>Kafka's default partitioner for keyed records: toPositive(murmur2(key)) % partitions.</summary>
public static class KeyPartitioner
{
    /// <summary>The partition Kafka's default partitioner picks for <paramref name="key"/>, so keys land where a Kafka client would put them.</summary>
    public static int Partition(ReadOnlySpan<byte> key, int partitionCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitionCount);
        // Kafka masks the sign bit (Utils.toPositive), not Math.abs, so int.MinValue maps to 0 rather than staying negative.
        return (Murmur2.Hash(key) & 0x7fffffff) % partitionCount;
    }
}
