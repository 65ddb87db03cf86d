using Akka.Actor;
using Akka.Cluster;

namespace Broker.Server.Membership;

/// <summary>
/// Akka.Cluster's downing provider on a cluster with a metadata quorum, in place of the split-brain resolver: the
/// side that holds a majority of the voters decides (<see cref="QuorumDowning"/>). Chosen by the node when
/// broker.metadata.quorum.voters is set and broker.metadata.quorum.downing.enabled is on (reference.conf).
/// </summary>
public sealed class QuorumDowningProvider : IDowningProvider

{
    /// <summary>The value of akka.cluster.downing-provider-class that selects it.</summary>
    public const string ClassName = "Broker.Server.Membership.QuorumDowningProvider, Broker.Server";

    private readonly ActorSystem _system;

    /// <summary>Akka creates the provider with these two arguments.</summary>
    public QuorumDowningProvider(ActorSystem system, Cluster cluster)
    {
        _system = system;
        _ = cluster;
    }

    /// <summary>akka.cluster.down-removal-margin (reference.conf says why it is short).</summary>
    public TimeSpan DownRemovalMargin => _system.Settings.Config.GetTimeSpan("akka.cluster.down-removal-margin", TimeSpan.Zero);

    public Props DowningActorProps
    {
        get
        {
            var config = _system.Settings.Config.GetConfig("broker.metadata.quorum.downing");
            return QuorumDowningActor.Props(new QuorumDowning(config.GetTimeSpan("stable-after"), config.GetTimeSpan("minority-after"), TimeProvider.System));
        }
    }
}
