namespace Broker.Protocol.Serialization;

/// <summary>Bytes that do not follow the wire format: truncated, or with a length that cannot be right.</summary>
public sealed class WireFormatException(string message) : Exception(message);
