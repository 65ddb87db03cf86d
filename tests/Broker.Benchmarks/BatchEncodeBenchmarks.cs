using BenchmarkDotNet.Attributes;
using Broker.Protocol.Records;

namespace Broker.Benchmarks;

/// <summary>Producer side: append 100 records to a reused builder and build the batch (header + CRC).</summary>
[MemoryDiagnoser]
public class BatchEncodeBenchmarks
{
    private readonly RecordBatchBuilder _builder = new(16384);
    private readonly byte[] _destination = new byte[16384];

    [Benchmark]
    public int AppendAndBuildInto()
    {
        _builder.Reset();
        for (var i = 0; i < SampleBatch.Records; i++) _builder.Append(1_700_000_000_000 + i, SampleBatch.Keys[i], SampleBatch.Value);
        return _builder.BuildInto(_destination);
    }
}
