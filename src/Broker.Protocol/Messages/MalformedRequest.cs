namespace Broker.Protocol.Messages;

/// <summary>
/// What the serializer hands to the gateway instead of throwing when bytes under one of our manifests
/// cannot be read: the gateway answers it with InvalidRequest, so a bad client gets a typed error and
/// the node never drops the association over it.
/// </summary>
public sealed record MalformedRequest(string Manifest, string Reason) : IBrokerMessage;
