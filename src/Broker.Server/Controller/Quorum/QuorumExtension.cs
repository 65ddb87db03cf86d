using Akka.Actor;

namespace Broker.Server.Controller.Quorum;

/// <summary>
/// The node's member of the metadata quorum (a voter or an observer), reachable from every actor of its ActorSystem. Registered by
/// <see cref="Hosting.BrokerNode"/> before any actor starts, so every <see cref="Metadata.MetadataStore"/> of the
/// system uses the same backend; absent when broker.metadata.quorum.voters is empty.
/// </summary>
public sealed class QuorumExtension(IMetadataQuorum quorum) : IExtension
{
    public IMetadataQuorum Quorum => quorum;

    public static void Register(ActorSystem system, IMetadataQuorum quorum) => system.RegisterExtension(new Id(quorum));

    public static IMetadataQuorum? Find(ActorSystem system) =>
        system.HasExtension<QuorumExtension>() ? system.GetExtension<QuorumExtension>().Quorum : null;

    private sealed class Id(IMetadataQuorum quorum) : ExtensionIdProvider<QuorumExtension>
    {
        public override QuorumExtension CreateExtension(ExtendedActorSystem system) => new(quorum);
    }
}
