using Akka.Configuration;

namespace Broker.Server.Gateway.ClientDoor;

/// <summary>
/// broker.client-door: the native clients' own port (a second ActorSystem that is not a cluster member), and whether a
/// client must log in there. Off by default: native clients then talk to the cluster port, as before.
/// </summary>
public sealed record ClientDoorSettings(bool Enabled, string Host, int Port, string PublicHost, int PublicPort, bool RequireLogin, TimeSpan SessionIdleTimeout, TimeSpan RelayTimeout)
{
    public static ClientDoorSettings Create(Config? door, string nodeHost, string nodePublicHost)
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
            door.GetTimeSpan("relay-timeout", TimeSpan.FromSeconds(30)));
        if (settings.Enabled && port <= 0)
            throw new ConfigurationException($"broker.client-door.port must be a port number (the door's address is announced to clients), got {port}");
        return settings;
    }
}
