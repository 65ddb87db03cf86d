// The leader's per-batch check before and after issue 16: header + CRC only, against CRC plus the record walk
// (framing, offset deltas, timestamps) on the sample batch, plain and compressed.
using BenchmarkDotNet.Attributes;
using Broker.Protocol.Records;
using Broker.Protocol.Records.Compression;

namespace Broker.Benchmarks;

[MemoryDiagnoser]
public class BatchValidationBenchmarks
{
    private readonly byte[] _plain = SampleBatch.Build();
    private byte[] _compressed = [];

    [Params(CompressionCodec.Lz4, CompressionCodec.Zstd)]
    public CompressionCodec Codec { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var builder = new RecordBatchBuilder(compression: Codec);
        SampleBatch.Fill(builder);
        _compressed = builder.Build();
    }

    /// <summary>What the leader checked before: header, length and CRC-32C.</summary>
    [Benchmark(Baseline = true)]
    public BatchValidation HeaderAndCrc() => RecordBatch.Validate(_plain, out _);

    /// <summary>What it checks now on an uncompressed batch: the same, then every record walked.</summary>
    [Benchmark]
    public long HeaderCrcAndRecords() => Scan(_plain);

    /// <summary>The same on the compressed sample batch: decompression into the reused buffer, then the walk.</summary>
    [Benchmark]
    public long HeaderCrcAndRecordsCompressed() => Scan(_compressed);

    private static long Scan(byte[] batch)
    {
        RecordBatch.Validate(batch, out var header);
        List<int>? outOfWindow = null;
        return RecordsScan.Scan(batch, header, 64 << 20, long.MinValue, long.MaxValue, ref outOfWindow).MaxTimestamp;
    }
}
