using Broker.Protocol.Records;

namespace Broker.Client;

/// <summary>One consumed record.</summary>
public sealed class ConsumeResult
{
    public required string Topic { get; init; }
    public required int Partition { get; init; }
    public required long Offset { get; init; }
    public byte[]? Key { get; init; }
    public byte[]? Value { get; init; }
    public required IReadOnlyList<RecordHeader> Headers { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
    public TopicPartition TopicPartition => new(Topic, Partition);
}
