using Akka.Configuration;

namespace Broker.Server.Controller.Quorum;

/// <summary>
/// Reads <c>broker.metadata.quorum</c> (reference.conf) into <see cref="QuorumSettings"/>: null when no voters are
/// configured (the quorum is off and the Distributed Data store alone holds the metadata, as before).
/// </summary>
public static class QuorumConfig
{
    /// <summary>The quorum directory inside a node's data directory.</summary>
    public const string DirectoryName = "metadata-quorum";

    /// <summary>The cluster id when broker.metadata.quorum.cluster-id is empty.</summary>
    public const string DefaultClusterId = "broker";

    public static QuorumSettings? From(Config config, int nodeId, string dataDirectory)
    {
        var q = config.GetConfig("broker.metadata.quorum");
        if (q is null) return null;
        var voters = q.GetStringList("voters");
        if (voters is null || voters.Count == 0) return null;
        QuorumVoter[] parsed;
        try
        {
            parsed = [.. voters.Select(QuorumVoter.Parse)];
        }
        catch (FormatException ex)
        {
            throw new ConfigurationException($"broker.metadata.quorum.voters: {ex.Message}");
        }
        // Other voters connect to the announced controller endpoint: by default this voter's own Raft address.
        var self = parsed.FirstOrDefault(v => v.NodeId == nodeId);
        var controllerHost = q.GetString("controller-host") is { Length: > 0 } host ? System.Net.IPAddress.Parse(host)
            : self?.Endpoint.Address ?? System.Net.IPAddress.Loopback;
        var settings = new QuorumSettings(nodeId, parsed, Path.Combine(dataDirectory, DirectoryName), q.GetString("cluster-id") is { Length: > 0 } clusterId ? clusterId : DefaultClusterId)
        {
            ControllerEndpoint = new System.Net.IPEndPoint(controllerHost, q.GetInt("controller-port")),
            LowerElectionTimeout = q.GetTimeSpan("election-timeout-min"),
            UpperElectionTimeout = q.GetTimeSpan("election-timeout-max"),
            RequestTimeout = q.GetTimeSpan("request-timeout"),
            ConnectTimeout = q.GetTimeSpan("connect-timeout"),
            SnapshotEvery = q.GetInt("snapshot-every"),
        };
        if (settings.Validate() is { } invalid) throw new ConfigurationException($"broker.metadata.quorum: {invalid}");
        return settings;
    }

    /// <summary>Whether a node may format an unformatted quorum directory (broker.metadata.quorum.format-if-new).</summary>
    public static bool FormatIfNew(Config config) => config.GetBoolean("broker.metadata.quorum.format-if-new", false);
}
