namespace Broker.Protocol.Records;

/// <summary>One record read from a batch. Key, value and headers are slices of the batch bytes, not copies.</summary>
public readonly struct Record(long offset, long timestamp, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value, IReadOnlyList<RecordHeader> headers)
{
    public long Offset { get; } = offset;
    public long Timestamp { get; } = timestamp;
    public ReadOnlyMemory<byte>? Key { get; } = key;
    public ReadOnlyMemory<byte>? Value { get; } = value;
    public IReadOnlyList<RecordHeader> Headers { get; } = headers;
}
