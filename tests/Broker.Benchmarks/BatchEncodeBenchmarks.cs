// Producer side: encoding the sample batch (100 records, 16-byte keys, 100-byte values) into RecordBatch v2 bytes.
using BenchmarkDotNet.Attributes;
using Broker.Protocol.Records;

namespace Broker.Benchmarks;

[MemoryDiagnoser]
public class BatchEncodeBenchmarks
{
    private readonly RecordBatchBuilder _builder = new(16384);
    private readonly byte[] _destination = new byte[16384];

    /// <summary>Appends and Build(): the one allocation is the finished batch array.</summary>
    [Benchmark(Baseline = true)]
    public byte[] AppendAndBuild()
    {
        SampleBatch.Fill(_builder);
        return _builder.Build();
    }

    /// <summary>Appends and BuildInto() a reused buffer: should allocate nothing.</summary>
    [Benchmark]
    public int AppendAndBuildInto()
    {
        SampleBatch.Fill(_builder);
        return _builder.BuildInto(_destination);
    }

    /// <summary>Appends and BuildInPlace(), as the producer does before copying the batch into its request: no copy, no allocation.</summary>
    [Benchmark]
    public int AppendAndBuildInPlace()
    {
        SampleBatch.Fill(_builder);
        return _builder.BuildInPlace().Length;
    }
}
