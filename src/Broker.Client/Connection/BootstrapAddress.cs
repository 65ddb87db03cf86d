// Parses "host:port[,host:port...]" into the gateway addresses a client tries in turn.
using System.Globalization;
using Broker.Protocol;

namespace Broker.Client.Connection;

/// <summary>One bootstrap node; <see cref="GatewayPath"/> is where its gateway actor lives.</summary>
internal readonly record struct BootstrapAddress(string Host, int Port)
{
    /// <summary>The actor system name of every broker node (BrokerNode.SystemName).</summary>
    public const string NodeSystemName = "broker";

    public string GatewayPath => GatewayPathWith("akka.tcp");

    /// <summary>The gateway's path under <paramref name="scheme"/> (akka.ssl.tcp for a TLS door).</summary>
    public string GatewayPathWith(string scheme) => $"{scheme}://{NodeSystemName}@{FormatHost(Host)}:{Port}/user/{Wellknown.GatewayName}";

    public override string ToString() => $"{FormatHost(Host)}:{Port}";

    private static string FormatHost(string host) => host.Contains(':') ? $"[{host}]" : host;

    /// <summary>Parses a bootstrap list; throws <see cref="BrokerException"/> (InvalidConfig) naming the bad entry.</summary>
    public static IReadOnlyList<BootstrapAddress> ParseList(string? servers)
    {
        if (string.IsNullOrWhiteSpace(servers))
            throw Invalid(servers ?? "", "it is empty");
        var parts = servers.Split(',', StringSplitOptions.TrimEntries);
        var list = new List<BootstrapAddress>(parts.Length);
        foreach (var part in parts)
        {
            if (part.Length == 0) throw Invalid(servers, "it has an empty entry");
            list.Add(Parse(part, servers));
        }
        return list;
    }

    private static BootstrapAddress Parse(string entry, string all)
    {
        string host;
        string port;
        if (entry.StartsWith('['))
        {
            // [IPv6]:port
            var close = entry.IndexOf(']');
            if (close < 0 || close + 1 >= entry.Length || entry[close + 1] != ':')
                throw Invalid(all, $"'{entry}' is not [ipv6]:port");
            host = entry[1..close];
            port = entry[(close + 2)..];
        }
        else
        {
            var colon = entry.LastIndexOf(':');
            if (colon < 0) throw Invalid(all, $"'{entry}' has no port");
            if (entry.IndexOf(':') != colon) throw Invalid(all, $"'{entry}' looks like an IPv6 address: write it as [address]:port");
            host = entry[..colon];
            port = entry[(colon + 1)..];
        }
        if (host.Length == 0) throw Invalid(all, $"'{entry}' has no host");
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
            throw Invalid(all, $"'{entry}' has port '{port}', which is not a number from 1 to 65535");
        return new BootstrapAddress(host, number);
    }

    private static BrokerException Invalid(string servers, string why) =>
        new(ErrorCode.InvalidConfig, $"bootstrap servers '{servers}' are invalid: {why}; expected host:port[,host:port...], e.g. 127.0.0.1:9190");
}
