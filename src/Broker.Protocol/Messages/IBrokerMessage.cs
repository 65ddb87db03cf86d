namespace Broker.Protocol.Messages;

/// <summary>Marker for every message that crosses the wire or is persisted; bound to <c>BrokerSerializer</c> in HOCON.</summary>
public interface IBrokerMessage;

/// <summary>A request a client sends to a node's gateway.</summary>
public interface IBrokerRequest : IBrokerMessage;

/// <summary>A reply to a request: always a typed error code (None on success) and a human message.</summary>
public interface IBrokerResponse : IBrokerMessage
{
    ErrorCode Error { get; }
    string? ErrorMessage { get; }
}

/// <summary>A message addressed to one partition entity; its entity id is <c>topic/partition</c>.</summary>
public interface IPartitionMessage : IBrokerMessage
{
    string Topic { get; }
    int Partition { get; }
}
