// One record as a consumer returns it.
using Broker.Protocol.Records;

namespace Broker.Client;

/// <summary>A consumed record. Key and value are copies; header values are slices of the fetched bytes.</summary>
public sealed class ConsumeResult
{
    public required string Topic { get; init; }
    public required int Partition { get; init; }
    public required long Offset { get; init; }
    public byte[]? Key { get; init; }
    public byte[]? Value { get; init; }
    public required IReadOnlyList<RecordHeader> Headers { get; init; }
    public required DateTimeOffset Timestamp { get; init; }

    public TopicPartitionOffset TopicPartitionOffset => new(Topic, Partition, Offset);
}
