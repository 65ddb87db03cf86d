namespace Broker.Server.Serialization;

/// <summary>Marker for node-internal messages that cross nodes or are persisted; bound to <see cref="ServerSerializer"/>.</summary>
public interface IServerMessage;
