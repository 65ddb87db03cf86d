// Helpers to read what a producer sent and to build what a consumer fetches.
using System.Text;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;

namespace Broker.Client.Tests.Fakes;

internal static class Batches
{
    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    public static string Text(ReadOnlyMemory<byte>? bytes) => bytes is null ? "<null>" : Encoding.UTF8.GetString(bytes.Value.Span);

    public static string Text(byte[]? bytes) => bytes is null ? "<null>" : Encoding.UTF8.GetString(bytes);

    /// <summary>Every batch sent, in send order, as (topic, partition, values).</summary>
    public static List<(string Topic, int Partition, List<string> Values)> Sent(IEnumerable<ProduceRequest> requests)
    {
        var list = new List<(string, int, List<string>)>();
        foreach (var request in requests)
        {
            foreach (var part in request.Partitions)
            {
                var values = new List<string>();
                var reader = new RecordBatchReader(part.Batch);
                while (reader.TryReadNext(out var record)) values.Add(Text(record.Value));
                list.Add((part.Topic, part.Partition, values));
            }
        }
        return list;
    }

    /// <summary>A batch of records with values "{prefix}{offset}" starting at <paramref name="baseOffset"/>.</summary>
    public static byte[] Build(long baseOffset, int count, string prefix = "v")
    {
        var builder = new RecordBatchBuilder(1024);
        for (var i = 0; i < count; i++) builder.Append(1_700_000_000_000 + i, Bytes($"k{baseOffset + i}"), Bytes($"{prefix}{baseOffset + i}"), null);
        return builder.Build(baseOffset);
    }

    public static byte[] Concat(params byte[][] parts)
    {
        var all = new byte[parts.Sum(p => p.Length)];
        var at = 0;
        foreach (var part in parts)
        {
            part.CopyTo(all, at);
            at += part.Length;
        }
        return all;
    }
}
