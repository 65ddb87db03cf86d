using Akka;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Event;
using Broker.Protocol;
using Broker.Protocol.Serialization;
using Broker.Server.Security;
using Broker.Server.Security.Authorization;
using Broker.Server.Security.Sasl;

namespace Broker.Server.Gateway.ClientDoor;

/// <summary>
/// The native clients' door of a node (broker.client-door, docs/security.md): a second ActorSystem, also named
/// "broker" so clients resolve <c>akka.tcp://broker@host:door-port/user/gateway</c> as before, with provider
/// <c>remote</c> (never a cluster member: a client there is not a peer of the cluster) and only the protocol's
/// serializers (a client can send nothing but Broker.Protocol messages). Its gateway checks logins and ACLs and relays
/// requests in-process to the cluster system's gateway. It stops when the node does.
/// </summary>
public sealed class ClientDoor
{
    private ClientDoor(ActorSystem system) => System = system;

    public ActorSystem System { get; }

    /// <summary>
    /// Starts the door for <paramref name="cluster"/>'s gateway, with TLS when <paramref name="tls"/> is set; SASL
    /// bootstrap users (broker.kafka.sasl.dev-users) are accepted too.
    /// </summary>
    public static ClientDoor Start(ActorSystem cluster, IActorRef gateway, ClientDoorSettings settings, ClientDoorTls? tls, ICredentialStore bootstrapUsers)
    {
        var config = DoorConfig(cluster.Settings.Config, settings);
        var bootstrap = BootstrapSetup.Create().WithConfig(tls is null ? config : tls.AkkaConfig.WithFallback(config));
        var system = ActorSystem.Create(Hosting.BrokerNode.SystemName, tls is null ? ActorSystemSetup.Create(bootstrap) : ActorSystemSetup.Create(bootstrap, tls.Setup()));
        var security = ClusterSecurity.Get(cluster);
        system.ActorOf(ClientDoorActor.Props(settings, gateway, security, security.Credentials(bootstrapUsers)), Wellknown.GatewayName);
        CoordinatedShutdown.Get(cluster).AddTask(CoordinatedShutdown.PhaseServiceUnbind, "client-door", async () =>
        {
            await system.Terminate();
            return Done.Instance;
        });
        cluster.RegisterOnTermination(() => system.Terminate().Wait(TimeSpan.FromSeconds(5)));
        var advertised = $"{ClusterTls.Scheme(tls is not null)}://{Hosting.BrokerNode.SystemName}@{settings.PublicHost}:{settings.PublicPort}/user/gateway";
        cluster.Log.Info("client door for native clients on {0}:{1}, advertised as {2} ({3}; {4})", settings.Host, settings.Port, advertised,
            settings.RequireLogin ? "login required" : "no login: clients act as User:ANONYMOUS unless they log in",
            tls is null ? "plain TCP" : tls.ClientAuthRequired ? "TLS, client certificates required" : "TLS");
        if (security.Settings.Enabled && !settings.RequireLogin)
        {
            cluster.Log.Warning("client door: authorization is on but a login is not required: a client that does not log in is User:ANONYMOUS and gets only what ACLs "
                + "grant User:ANONYMOUS or User:*; set broker.client-door.require-login = on");
        }
        return new ClientDoor(system);
    }

    private static Config DoorConfig(Config node, ClientDoorSettings settings)
    {
        static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
        var loggers = string.Join(",", node.GetStringList("akka.loggers", []).Select(Quote));
        return ConfigurationFactory.ParseString($$"""
            akka {
              loggers = [{{loggers}}]
              loglevel = {{node.GetString("akka.loglevel", "INFO")}}
              stdout-loglevel = {{node.GetString("akka.stdout-loglevel", "WARNING")}}
              log-dead-letters = off
              actor.provider = remote
              remote {
                log-remote-lifecycle-events = off
                dot-netty.tcp {
                  hostname = {{Quote(settings.Host)}}
                  port = {{settings.Port}}
                  public-hostname = {{Quote(settings.PublicHost)}}
                  public-port = {{settings.PublicPort}}
                  maximum-frame-size = {{node.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size") ?? 8388608}}b
                  send-buffer-size = {{node.GetByteSize("akka.remote.dot-netty.tcp.send-buffer-size") ?? 16777216}}b
                  receive-buffer-size = {{node.GetByteSize("akka.remote.dot-netty.tcp.receive-buffer-size") ?? 16777216}}b
                }
              }
              coordinated-shutdown.run-by-clr-shutdown-hook = off
            }
            """).WithFallback(ProtocolConfig.Default);
    }
}
