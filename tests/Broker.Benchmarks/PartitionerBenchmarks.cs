using BenchmarkDotNet.Attributes;
using Broker.Protocol.Records;

namespace Broker.Benchmarks;

/// <summary>murmur2 key partitioning of 16-byte keys, once per keyed record on the producer.</summary>
public class PartitionerBenchmarks
{
    private readonly byte[] _key = System.Text.Encoding.ASCII.GetBytes("customer-0000042");

    [Benchmark]
    public int Partition() => KeyPartitioner.Partition(_key, 12);
}
