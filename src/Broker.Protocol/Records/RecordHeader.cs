namespace Broker.Protocol.Records;

/// <summary>A record header: a string key and optional bytes, as in Kafka.</summary>
public readonly record struct RecordHeader(string Key, ReadOnlyMemory<byte>? Value);
