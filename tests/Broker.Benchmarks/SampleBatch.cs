using Broker.Protocol.Records;

namespace Broker.Benchmarks;

/// <summary>The batch every benchmark uses: 100 records of 100-byte values with 16-byte keys, as the perf tool sends.</summary>
public static class SampleBatch
{
    public const int Records = 100;
    public const int ValueSize = 100;

    public static readonly byte[][] Keys = Enumerable.Range(0, Records).Select(i => System.Text.Encoding.ASCII.GetBytes($"key-{i:D12}")).ToArray();
    public static readonly byte[] Value = Enumerable.Range(0, ValueSize).Select(i => (byte)i).ToArray();

    public static byte[] Build()
    {
        var builder = new RecordBatchBuilder(Records * (ValueSize + 32) + RecordBatch.HeaderSize);
        for (var i = 0; i < Records; i++) builder.Append(1_700_000_000_000 + i, Keys[i], Value);
        return builder.Build();
    }
}
