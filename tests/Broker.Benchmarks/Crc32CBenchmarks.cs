// CRC-32C throughput on 1 KB and 1 MB: the CPU instruction path against the portable slicing-by-8 table.
using BenchmarkDotNet.Attributes;
using Broker.Protocol.Records;

namespace Broker.Benchmarks;

[MemoryDiagnoser]
public class Crc32CBenchmarks
{
    private byte[] _data = [];

    [Params(1024, 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Size];
        new Random(1).NextBytes(_data);
    }

    [Benchmark(Baseline = true)]
    public uint Compute() => Crc32C.Compute(_data);

    /// <summary>What a CPU without SSE4.2 or Arm CRC would get.</summary>
    [Benchmark]
    public uint Portable() => Crc32C.AppendPortable(0, _data);
}
