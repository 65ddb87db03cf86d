// Sample batches shared by the record batch tests.
using Broker.Protocol.Records;

namespace Broker.Protocol.Tests.Records;

internal static class BatchSamples
{
    public const long Timestamp = 1_700_000_000_000;

    /// <summary>A valid batch of <paramref name="count"/> records "key-i" / "value-i", one millisecond apart.</summary>
    public static byte[] Batch(int count, long baseOffset = 0, int valueSize = 0)
    {
        var builder = new RecordBatchBuilder(256);
        for (var i = 0; i < count; i++)
        {
            var value = valueSize > 0 ? new byte[valueSize] : System.Text.Encoding.ASCII.GetBytes($"value-{i}");
            builder.Append(Timestamp + i, System.Text.Encoding.ASCII.GetBytes($"key-{i}"), value);
        }
        return builder.Build(baseOffset);
    }

    public static byte[] Concat(params byte[][] parts)
    {
        var result = new byte[parts.Sum(p => p.Length)];
        var at = 0;
        foreach (var p in parts)
        {
            p.CopyTo(result, at);
            at += p.Length;
        }
        return result;
    }

    /// <summary>Recomputes the CRC after a test edits bytes inside the CRC'd range, so only the intended check fails.</summary>
    public static void FixCrc(byte[] batch)
    {
        var crc = Crc32C.Compute(batch.AsSpan(21));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(batch.AsSpan(17), crc);
    }
}
