namespace Broker.Protocol.Records;

/// <summary>Kafka's default partitioner for keyed records: toPositive(murmur2(key)) % partitions.</summary>
public static class KeyPartitioner
{
    public static int Partition(ReadOnlySpan<byte> key, int partitionCount) =>
        (Murmur2.Hash(key) & 0x7fffffff) % partitionCount;
}
