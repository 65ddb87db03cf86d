using System.Reflection;
using Akka.Actor;
using Akka.Configuration;
using Broker.Protocol.Serialization;

namespace Broker.Client.Internal;

/// <summary>
/// The one ActorSystem a process uses for all its clients (remoting on an ephemeral port), created on
/// first use and terminated when the last client is disposed.
/// </summary>
internal static class ClientSystem
{
    private static readonly object Gate = new();
    private static ActorSystem? _system;
    private static int _users;

    public static Config Config { get; } = LoadConfig();

    public static ActorSystem Acquire()
    {
        lock (Gate)
        {
            _system ??= ActorSystem.Create("broker-client", Config);
            _users++;
            return _system;
        }
    }

    public static void Release()
    {
        ActorSystem? toStop = null;
        lock (Gate)
        {
            if (--_users == 0)
            {
                toStop = _system;
                _system = null;
            }
        }
        toStop?.Terminate().Wait(TimeSpan.FromSeconds(5));
    }

    private static Config LoadConfig()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Broker.Client.reference.conf")
            ?? throw new InvalidOperationException("Broker.Client.reference.conf is not embedded");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd()).WithFallback(ProtocolConfig.Default);
    }
}
