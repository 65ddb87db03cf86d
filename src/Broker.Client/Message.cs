using Broker.Protocol.Records;

namespace Broker.Client;

/// <summary>A record to produce. A null key means the producer spreads records over partitions (sticky partitioning).</summary>
public sealed class Message
{
    public byte[]? Key { get; set; }
    public byte[]? Value { get; set; }
    public IReadOnlyList<RecordHeader>? Headers { get; set; }

    /// <summary>Create time; now when not set.</summary>
    public DateTimeOffset? Timestamp { get; set; }
}

/// <summary>Where a produced record was stored. Offset is -1 with acks=0.</summary>
public sealed record DeliveryResult(string Topic, int Partition, long Offset);
