using Broker.Kafka.Messages;
using Xunit;

namespace Broker.Kafka.Tests;

/// <summary>A writer that splices records sections in (a fetch response's stored batches) writes the same frame as one that copies them.</summary>
public sealed class KafkaWriterTests
{
    private static FetchResponse Response(params byte[][] records) => new()
    {
        SessionId = 7,
        Responses =
        [
            new()
            {
                Topic = "orders",
                TopicId = Guid.NewGuid(),
                Partitions = [.. records.Select((r, i) => new FetchResponse.PartitionData
                {
                    PartitionIndex = i, HighWatermark = 100 + i, LastStableOffset = 100 + i, LogStartOffset = 0, PreferredReadReplica = -1,
                    Records = r,
                    // A tagged field after the records: its size prefix must not move the spliced bytes.
                    DivergingEpoch = i == 0 ? new() { Epoch = 3, EndOffset = 42 } : new(),
                })],
            },
        ],
    };

    private static byte[] Filled(int size, byte seed) => [.. Enumerable.Range(0, size).Select(i => (byte)(i * 31 + seed))];

    [Theory]
    [InlineData(12)]
    [InlineData(17)]
    public void Spliced_records_give_the_same_bytes_as_copied_ones(short version)
    {
        var response = Response(Filled(5000, 1), Filled(10, 2), Filled(9000, 3), []);
        using var copying = new KafkaWriter();
        response.Write(copying, version);

        using var splicing = new KafkaWriter(64, spliceRecordsFrom: 1000);
        response.Write(splicing, version);
        var segments = new List<ReadOnlyMemory<byte>>();
        splicing.GetSegments(segments);

        Assert.Equal(copying.Length, splicing.Length);
        Assert.Equal(copying.WrittenSpan.ToArray(), segments.SelectMany(s => s.ToArray()).ToArray());
        Assert.Contains(segments, s => s.Length == 5000); // the large ones were not copied
        Assert.Contains(segments, s => s.Length == 9000);
        Assert.Throws<InvalidOperationException>(() => splicing.WrittenMemory);
    }
}
