// A record to produce.
using Broker.Protocol.Records;

namespace Broker.Client;

/// <summary>A record to produce. The producer copies key, value and headers when it accepts the record.</summary>
public sealed class Message
{
    /// <summary>Chooses the partition (murmur2, as Kafka) unless one is given; null means no key.</summary>
    public byte[]? Key { get; set; }

    /// <summary>The record's value; null means no value.</summary>
    public byte[]? Value { get; set; }

    /// <summary>The record's headers; null means none.</summary>
    public IReadOnlyList<RecordHeader>? Headers { get; set; }

    /// <summary>The record's timestamp; null means the time it is produced.</summary>
    public DateTimeOffset? Timestamp { get; set; }
}
