// The data every batch benchmark uses, so encode and decode figures describe the same bytes.
using Broker.Protocol.Records;

namespace Broker.Benchmarks;

/// <summary>The batch every benchmark uses: 100 records of 100-byte values with 16-byte keys, as the perf tool sends.</summary>
public static class SampleBatch
{
    public const int Records = 100;
    public const int ValueSize = 100;
    public const long FirstTimestamp = 1_700_000_000_000;

    public static readonly byte[][] Keys = Enumerable.Range(0, Records).Select(i => System.Text.Encoding.ASCII.GetBytes($"key-{i:D12}")).ToArray();
    public static readonly byte[] Value = Enumerable.Range(0, ValueSize).Select(i => (byte)i).ToArray();

    /// <summary>Appends the sample records to <paramref name="builder"/> after resetting it.</summary>
    public static void Fill(RecordBatchBuilder builder)
    {
        builder.Reset();
        for (var i = 0; i < Records; i++) builder.Append(FirstTimestamp + i, Keys[i], Value);
    }

    public static byte[] Build()
    {
        var builder = new RecordBatchBuilder(Records * (ValueSize + 32) + RecordBatch.HeaderSize);
        Fill(builder);
        return builder.Build();
    }
}
