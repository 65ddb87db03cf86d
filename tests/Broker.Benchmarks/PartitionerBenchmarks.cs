// Kafka-compatible key partitioning of 16-byte keys, once per keyed record on the producer.
using BenchmarkDotNet.Attributes;
using Broker.Protocol.Records;

namespace Broker.Benchmarks;

[MemoryDiagnoser]
public class PartitionerBenchmarks
{
    private readonly byte[] _key = System.Text.Encoding.ASCII.GetBytes("customer-0000042");

    [Benchmark(Baseline = true)]
    public int Murmur2Hash() => Murmur2.Hash(_key);

    [Benchmark]
    public int Partition() => KeyPartitioner.Partition(_key, 12);
}
