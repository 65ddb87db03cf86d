using Akka.Actor;
using Akka.Serialization;

namespace Broker.Protocol.Serialization;

/// <summary>
/// A serializer that is never used: it takes over the identifier of one of Akka's serializers that would build objects
/// of whatever type a message names, so a frame tagged with that identifier is refused before a byte of it is read.
/// Akka.Remote 1.5.73 logs the refusal ("Deserialization failed for message with serializer id ...; association remains
/// live") and drops that one message (EndpointReader.LogTransientSerializationError). Sending through it throws too:
/// a message with no binding of its own is a bug to fix with a binding, never a JSON fallback.
/// </summary>
public abstract class DisabledSerializer(ExtendedActorSystem system) : Serializer(system)
{
    /// <summary>Which Akka serializer this replaces, and why it is off, for both error messages.</summary>
    protected abstract string What { get; }

    public override bool IncludeManifest => false;

    public override byte[] ToBinary(object obj) =>
        throw new System.Runtime.Serialization.SerializationException(
            $"{obj.GetType().FullName} has no serializer binding and {What} is disabled (docs/security.md): bind the type to the broker's serializer");

    public override object FromBinary(byte[] bytes, Type type) =>
        throw new System.Runtime.Serialization.SerializationException($"refused a message for serializer {Identifier}: {What} is disabled on this node (docs/security.md)");
}

/// <summary>
/// In place of Akka's NewtonSoftJsonSerializer (id 1, bound to System.Object by default), which honours the <c>$type</c>
/// a sender writes and so instantiates sender-named types.
/// </summary>
public sealed class DisabledJsonSerializer(ExtendedActorSystem system) : DisabledSerializer(system)
{
    /// <summary>Akka passes akka.actor.serialization-settings.json, which its reference.conf always has; nothing in it applies.</summary>
    public DisabledJsonSerializer(ExtendedActorSystem system, Akka.Configuration.Config settings) : this(system) => _ = settings;

    public const int Id = 1;
    public override int Identifier => Id;
    protected override string What => "Akka's JSON serializer (it creates any type a sender names)";
}

/// <summary>
/// In place of Akka.Remote's DaemonMsgCreateSerializer (id 3): remote deployment, a peer asking this node's
/// RemoteSystemDaemon to create an actor from Props the peer chose (Akka.NET has no switch to turn it off).
/// </summary>
public sealed class DisabledRemoteDeploymentSerializer(ExtendedActorSystem system) : DisabledSerializer(system)
{
    /// <summary>For a config that has akka.actor.serialization-settings.daemon-create; nothing in it applies.</summary>
    public DisabledRemoteDeploymentSerializer(ExtendedActorSystem system, Akka.Configuration.Config settings) : this(system) => _ = settings;

    public const int Id = 3;
    public override int Identifier => Id;
    protected override string What => "remote deployment (DaemonMsgCreate: a peer creating actors here)";
}
