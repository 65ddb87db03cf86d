// One record as a consumer returns it.
using Broker.Protocol.Records;

namespace Broker.Client;

/// <summary>A consumed record. Key and value are copies; header values are slices of the fetched bytes.</summary>
public sealed class ConsumeResult
{
    /// <summary>The topic the record was read from.</summary>
    public required string Topic { get; init; }

    /// <summary>The partition the record was read from.</summary>
    public required int Partition { get; init; }

    /// <summary>The record's offset in its partition.</summary>
    public required long Offset { get; init; }

    /// <summary>The record's key; null when it was produced without one.</summary>
    public byte[]? Key { get; init; }

    /// <summary>The record's value; null for a record produced without one.</summary>
    public byte[]? Value { get; init; }

    /// <summary>The record's headers, in the order they were produced (empty when there are none).</summary>
    public required IReadOnlyList<RecordHeader> Headers { get; init; }

    /// <summary>The record's timestamp (create time, as the producer set it).</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>Where the record is: topic, partition and offset. Commit <c>Offset + 1</c> to mark it read.</summary>
    public TopicPartitionOffset TopicPartitionOffset => new(Topic, Partition, Offset);
}
