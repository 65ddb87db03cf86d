using System.Reflection;
using Akka.Configuration;

namespace Broker.Protocol.Serialization;

/// <summary>The HOCON that binds every IBrokerMessage to <see cref="BrokerSerializer"/>; node and client configs fall back on it.</summary>
public static class ProtocolConfig
{
    public static Config Default { get; } = Load();

    private static Config Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Broker.Protocol.protocol.conf")
            ?? throw new InvalidOperationException("Broker.Protocol.protocol.conf is not embedded");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
