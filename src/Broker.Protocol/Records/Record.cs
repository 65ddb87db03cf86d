namespace Broker.Protocol.Records;

/// <summary>One record read from a batch. Key, value and header values are slices of the batch bytes, not copies.</summary>
public readonly struct Record(long offset, long timestamp, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value, IReadOnlyList<RecordHeader> headers)
{
    internal static readonly RecordHeader[] NoHeaders = [];
    private readonly IReadOnlyList<RecordHeader>? _headers = headers;

    /// <summary>Absolute offset: the batch's base offset plus the record's offset delta.</summary>
    public long Offset { get; } = offset;

    /// <summary>Milliseconds since the epoch: CreateTime from the producer, or the batch's max timestamp for LogAppendTime batches.</summary>
    public long Timestamp { get; } = timestamp;

    /// <summary>Null when the record has no key (distinct from an empty key).</summary>
    public ReadOnlyMemory<byte>? Key { get; } = key;

    /// <summary>Null for a tombstone (distinct from an empty value).</summary>
    public ReadOnlyMemory<byte>? Value { get; } = value;

    /// <summary>The record's headers in order; one shared empty array when there are none.</summary>
    public IReadOnlyList<RecordHeader> Headers => _headers ?? NoHeaders;
}
