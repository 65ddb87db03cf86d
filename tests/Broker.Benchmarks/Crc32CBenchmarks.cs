using BenchmarkDotNet.Attributes;
using Broker.Protocol.Records;

namespace Broker.Benchmarks;

/// <summary>CRC-32C over a small and a full-size batch.</summary>
public class Crc32CBenchmarks
{
    private byte[] _data = [];

    [Params(1024, 1048576)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Size];
        new Random(42).NextBytes(_data);
    }

    [Benchmark]
    public uint Compute() => Crc32C.Compute(_data);
}
