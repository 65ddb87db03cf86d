using Akka.Configuration;

namespace Broker.Server.Monitoring;

/// <summary>The web page's, /api's, /metrics' and /health's settings (<c>broker.http</c>).</summary>
public sealed record HttpSettings(bool Enabled, string Host, int Port, TimeSpan RefreshInterval, bool Metrics)
{
    /// <summary>How often the groups (members, committed offsets) are re-read; lag follows the log ends at every refresh.</summary>
    public TimeSpan GroupsRefreshInterval { get; init; } = TimeSpan.FromSeconds(5);

    public static HttpSettings Create(Config http, string nodeHost)
    {
        var settings = new HttpSettings(
            Enabled: http.GetBoolean("enabled"),
            Host: http.GetString("host") is { Length: > 0 } host ? host : nodeHost,
            Port: http.GetInt("port"),
            RefreshInterval: http.GetTimeSpan("refresh-interval"),
            Metrics: http.GetBoolean("metrics"))
        {
            GroupsRefreshInterval = http.GetTimeSpan("groups-refresh-interval", TimeSpan.FromSeconds(5)),
        };
        if (settings.Port is < 0 or > 65535)
            throw new ConfigurationException($"broker.http.port must be 0 to 65535, got {settings.Port}");
        if (settings.RefreshInterval < TimeSpan.FromMilliseconds(100))
            throw new ConfigurationException($"broker.http.refresh-interval must be at least 100ms, got {settings.RefreshInterval}");
        return settings;
    }
}
