using Akka.Actor;

namespace Broker.Server.Controller.Quorum;

/// <summary>
/// The node's metadata quorum voter, reachable from every actor of its ActorSystem. Registered by
/// <see cref="Hosting.BrokerNode"/> before any actor starts, so every <see cref="Metadata.MetadataStore"/> of the
/// system uses the same backend; absent when broker.metadata.quorum.voters is empty.
/// </summary>
public sealed class QuorumExtension(MetadataQuorum quorum) : IExtension
{
    public MetadataQuorum Quorum => quorum;

    public static void Register(ActorSystem system, MetadataQuorum quorum) => system.RegisterExtension(new Id(quorum));

    public static MetadataQuorum? Find(ActorSystem system) =>
        system.HasExtension<QuorumExtension>() ? system.GetExtension<QuorumExtension>().Quorum : null;

    private sealed class Id(MetadataQuorum quorum) : ExtensionIdProvider<QuorumExtension>
    {
        public override QuorumExtension CreateExtension(ExtendedActorSystem system) => new(quorum);
    }
}
