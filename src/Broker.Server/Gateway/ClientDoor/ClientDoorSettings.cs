using Akka.Configuration;

namespace Broker.Server.Gateway.ClientDoor;

/// <summary>
/// broker.client-door: the native clients' own port (a second ActorSystem that is not a cluster member), and whether a
/// client must log in there. Off by default: native clients then talk to the cluster port, as before.
/// </summary>
public sealed record ClientDoorSettings(bool Enabled, string Host, int Port, string PublicHost, int PublicPort, bool RequireLogin, TimeSpan SessionIdleTimeout, TimeSpan RelayTimeout)
{
    /// <summary>broker.client-door.tls; null = plain TCP (the default).</summary>
    public Security.ClientDoorTlsSettings? Tls { get; init; }

    /// <summary>Reads broker.client-door; <paramref name="security"/> (broker.security) gives the node certificate the door's TLS presents by default.</summary>
    /// <param name="door">broker.client-door.</param>
    /// <param name="nodeHost">The node's host, the default of host.</param>
    /// <param name="nodePublicHost">The node's public host, the default of public-host.</param>
    /// <param name="security">broker.security, or null.</param>
    public static ClientDoorSettings Create(Config? door, string nodeHost, string nodePublicHost, Config? security = null)
    {
        door ??= ConfigurationFactory.Empty;
        var host = door.GetString("host", "") is { Length: > 0 } h ? h : nodeHost;
        var port = door.GetInt("port", 9290);
        var settings = new ClientDoorSettings(
            door.GetBoolean("enabled", false),
            host,
            port,
            door.GetString("public-host", "") is { Length: > 0 } ph ? ph : nodePublicHost,
            door.GetInt("public-port", 0) is > 0 and var pp ? pp : port,
            door.GetBoolean("require-login", false),
            door.GetTimeSpan("session-idle-timeout", TimeSpan.FromMinutes(10)),
            door.GetTimeSpan("relay-timeout", TimeSpan.FromSeconds(30)))
        {
            Tls = door.GetBoolean("enabled", false) ? Security.ClientDoorTlsSettings.Create(door.GetConfig("tls"), security) : null,
        };
        if (settings.Enabled && port <= 0)
            throw new ConfigurationException($"broker.client-door.port must be a port number (the door's address is announced to clients), got {port}");
        return settings;
    }
}
