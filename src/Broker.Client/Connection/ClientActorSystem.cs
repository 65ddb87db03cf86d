// The one ActorSystem all clients of a process share: created on first use, terminated when the last client is disposed.
using System.Reflection;
using Akka.Actor;
using Akka.Configuration;
using Broker.Protocol.Serialization;

namespace Broker.Client.Connection;

/// <summary>
/// Reference-counted owner of the "broker-client" ActorSystem (remoting only, ephemeral port). Clients
/// <see cref="Acquire"/> it in their constructor and <see cref="Release"/> it when disposed; a system whose
/// count reached zero is terminated, and the next client starts a fresh one.
/// </summary>
internal static class ClientActorSystem
{
    public const string Name = "broker-client";

    private static readonly object Sync = new();
    private static ActorSystem? _system;
    private static int _references;

    /// <summary>The client's HOCON: the embedded reference.conf over the protocol's serializer bindings.</summary>
    public static Config Config { get; } = Load();

    public static ActorSystem Acquire()
    {
        lock (Sync)
        {
            _system ??= ActorSystem.Create(Name, Config);
            _references++;
            return _system;
        }
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
