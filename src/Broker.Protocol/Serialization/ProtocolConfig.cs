using Akka.Configuration;

namespace Broker.Protocol.Serialization;

/// <summary>
/// The HOCON (embedded protocol.conf) that binds every IBrokerMessage to <see cref="BrokerSerializer"/>.
/// Node and client configurations fall back on it, so both ends always agree on the wire format.
/// </summary>
public static class ProtocolConfig
{
    private const string ResourceName = "Broker.Protocol.protocol.conf";

    public static Config Default { get; } = Load();

    private static Config Load()
    {
        using var stream = typeof(ProtocolConfig).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is not embedded in Broker.Protocol");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
