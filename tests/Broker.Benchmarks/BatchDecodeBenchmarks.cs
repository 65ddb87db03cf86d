using BenchmarkDotNet.Attributes;
using Broker.Protocol.Records;

namespace Broker.Benchmarks;

/// <summary>Broker and consumer side: validate a produced batch (CRC included) and read every record of it.</summary>
[MemoryDiagnoser]
public class BatchDecodeBenchmarks
{
    private readonly byte[] _batch = SampleBatch.Build();

    [Benchmark]
    public BatchValidation Validate() => RecordBatch.Validate(_batch, out _);

    [Benchmark]
    public long ReadAllRecords()
    {
        var reader = new RecordBatchReader(_batch);
        long sum = 0;
        while (reader.TryReadNext(out var record)) sum += record.Offset + record.Value!.Value.Length;
        return sum;
    }
}
