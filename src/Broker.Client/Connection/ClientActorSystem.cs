// The one ActorSystem all clients of a process share: created on first use, terminated when the last client is disposed.
using System.Reflection;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Broker.Protocol;
using Broker.Protocol.Transport;
using Broker.Protocol.Serialization;

namespace Broker.Client.Connection;

/// <summary>
/// Reference-counted owner of the "broker-client" ActorSystem (remoting only, ephemeral port). Clients
/// <see cref="Acquire"/> it in their constructor and <see cref="Release"/> it when disposed; a system whose
/// count reached zero is terminated, and the next client starts a fresh one. The system advertises
/// 127.0.0.1, or the client host (<see cref="ClientConfig.ClientHost"/>, env BROKER_CLIENT_HOST) when nodes
/// run elsewhere and must connect back to another address.
/// </summary>
internal static class ClientActorSystem
{
    public const string Name = "broker-client";

    public const string ClientHostVariable = "BROKER_CLIENT_HOST";

    private static readonly object Sync = new();
    private static ActorSystem? _system;
    private static string? _host;
    private static ClientTls? _tls;
    private static int _references;

    /// <summary>The client's HOCON: the embedded reference.conf over the protocol's serializer bindings.</summary>
    public static Config Config { get; } = Load();

    /// <summary>The TLS of the shared system, or null (plain TCP); set while a system runs.</summary>
    public static ClientTls? Tls
    {
        get
        {
            lock (Sync) return _tls;
        }
    }

    /// <summary>
    /// The shared system; <paramref name="clientHost"/> (else BROKER_CLIENT_HOST) is the host it advertises, null for
    /// 127.0.0.1; <paramref name="tls"/> turns TLS on (every client of the process must agree on it).
    /// </summary>
    /// <param name="clientHost">The host the system advertises, or null.</param>
    /// <param name="tls">The TLS files, or null for plain TCP.</param>
    public static ActorSystem Acquire(string? clientHost = null, ClientTls? tls = null)
    {
        var host = clientHost is { Length: > 0 } ? clientHost
            : Environment.GetEnvironmentVariable(ClientHostVariable) is { Length: > 0 } env ? env : null;
        lock (Sync)
        {
            if (_system is null)
            {
                NettyLeakDetection.DisableUnlessAsked();
                var config = host is null ? Config : Advertising(host);
                if (tls is null)
                {
                    _system = ActorSystem.Create(Name, config);
                }
                else
                {
                    tls.Load();
                    var bootstrap = BootstrapSetup.Create().WithConfig(tls.AkkaConfig.WithFallback(config));
                    _system = ActorSystem.Create(Name, ActorSystemSetup.Create(bootstrap, tls.Setup()));
                }
                _host = host;
                _tls = tls;
            }
            else if (tls is null ? _tls is not null : !tls.SameFiles(_tls))
            {
                throw new BrokerException(ErrorCode.InvalidConfig,
                    $"this client's TLS ({tls?.ToString() ?? "none"}) differs from the one other clients of this process already use ({_tls?.ToString() ?? "none"}); clients of one process share one connection, so give them the same SslCaLocation, SslCertificateLocation and SslKeyLocation");
            }
            else if (host is not null && host != _host)
            {
                throw new BrokerException(ErrorCode.InvalidConfig,
                    $"ClientHost '{host}' differs from '{_host ?? "127.0.0.1"}', which other clients of this process already use; clients of one process share one connection, so give them the same ClientHost");
            }
            _references++;
            return _system;
        }
    }

    /// <summary>Listens on every interface and advertises <paramref name="host"/>, so nodes in containers or on other machines can connect back.</summary>
    private static Config Advertising(string host)
    {
        var quoted = "\"" + host.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
        return ConfigurationFactory.ParseString($"""
            akka.remote.dot-netty.tcp.hostname = "0.0.0.0"
            akka.remote.dot-netty.tcp.public-hostname = {quoted}
            """).WithFallback(Config);
    }

    /// <summary>Drops one reference; returns the termination of the system if this was the last one.</summary>
    public static Task Release(ActorSystem system)
    {
        lock (Sync)
        {
            if (!ReferenceEquals(system, _system)) return Task.CompletedTask;
            if (--_references > 0) return Task.CompletedTask;
            _system = null;
        }
        return system.Terminate();
    }

    private static Config Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Broker.Client.reference.conf")
            ?? throw new InvalidOperationException("Broker.Client.reference.conf is not embedded");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd()).WithFallback(ProtocolConfig.Default);
    }
}
