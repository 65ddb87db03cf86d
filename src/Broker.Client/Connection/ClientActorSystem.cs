// The one ActorSystem all clients of a process share: created on first use, terminated when the last client is disposed.
using System.Reflection;
using Akka.Actor;
using Akka.Configuration;
using Broker.Protocol;
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
    private static int _references;

    /// <summary>The client's HOCON: the embedded reference.conf over the protocol's serializer bindings.</summary>
    public static Config Config { get; } = Load();

    /// <summary>The shared system; <paramref name="clientHost"/> (else BROKER_CLIENT_HOST) is the host it advertises, null for 127.0.0.1.</summary>
    public static ActorSystem Acquire(string? clientHost = null)
    {
        var host = clientHost is { Length: > 0 } ? clientHost
            : Environment.GetEnvironmentVariable(ClientHostVariable) is { Length: > 0 } env ? env : null;
        lock (Sync)
        {
            if (_system is null)
            {
                _system = ActorSystem.Create(Name, host is null ? Config : Advertising(host));
                _host = host;
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
