using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;

namespace Broker.Server.Tests.Membership;

/// <summary>Akka cluster members in this process on 127.0.0.1, each carrying its broker id as the role node-N, as a broker node does.</summary>
internal static class InProcessMembers
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(40);

    /// <summary>A member's ActorSystem (not joined yet), with the broker's serializer for node messages and <paramref name="extraHocon"/>.</summary>
    public static ActorSystem Start(string systemName, int nodeId, string extraHocon = "") => ActorSystem.Create(systemName, ConfigurationFactory.ParseString($$"""
        akka.loglevel = WARNING
        akka.actor.provider = cluster
        akka.actor.serializers.broker-server = "Broker.Server.Serialization.ServerSerializer, Broker.Server"
        akka.actor.serialization-bindings { "Broker.Server.Serialization.IServerMessage, Broker.Server" = broker-server }
        akka.actor.serialization-identifiers { "Broker.Server.Serialization.ServerSerializer, Broker.Server" = 4101 }
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        akka.cluster.roles = ["node-{{nodeId}}"]
        {{extraHocon}}
        """));

    /// <summary>Waits until <paramref name="system"/> sees exactly <paramref name="members"/> members Up.</summary>
    public static Task UpAsync(ActorSystem system, int members) => Broker.Tests.Eventually.TrueAsync(
        () => Task.FromResult(Cluster.Get(system).State.Members.Count(m => m.Status == MemberStatus.Up) == members), Deadline, $"{members} members up");
}
