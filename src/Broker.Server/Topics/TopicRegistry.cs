using Akka.Actor;
using Akka.Cluster.Tools.Singleton;

namespace Broker.Server.Topics;

/// <summary>Starts the topic registry as a cluster singleton and returns the proxy every other actor talks to.</summary>
public static class TopicRegistry
{
    public static IActorRef Start(ActorSystem system, BrokerSettings settings)
    {
        system.ActorOf(ClusterSingletonManager.Props(
            TopicRegistryActor.Props(settings),
            PoisonPill.Instance,
            ClusterSingletonManagerSettings.Create(system)), "topic-registry");
        return system.ActorOf(ClusterSingletonProxy.Props(
            "/user/topic-registry",
            ClusterSingletonProxySettings.Create(system)), "topic-registry-proxy");
    }
}
