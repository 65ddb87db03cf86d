// Broker and consumer side: validating the sample batch (CRC-32C included) and reading every record of it.
using BenchmarkDotNet.Attributes;
using Broker.Protocol.Records;

namespace Broker.Benchmarks;

[MemoryDiagnoser]
public class BatchDecodeBenchmarks
{
    private readonly byte[] _batch = SampleBatch.Build();

    /// <summary>Every record read (slices, no copies): what a consumer pays per batch before copying anything out.</summary>
    [Benchmark(Baseline = true)]
    public long ReadAllRecords()
    {
        var reader = new RecordBatchReader(_batch);
        long sum = 0;
        while (reader.TryReadNext(out var record)) sum += record.Offset + record.Value!.Value.Length;
        return sum;
    }

    /// <summary>Header, length and CRC check: what the partition leader pays per appended batch.</summary>
    [Benchmark]
    public BatchValidation Validate() => RecordBatch.Validate(_batch, out _);
}
