using System.Globalization;
using System.Net;

namespace Broker.Server.Controller.Quorum;

/// <summary>A voter of the metadata quorum: a broker id and the endpoint its Raft transport listens on.</summary>
public sealed record QuorumVoter(int NodeId, IPEndPoint Endpoint)
{
    /// <summary>Parses Kafka's <c>controller.quorum.voters</c> form, <c>1@127.0.0.1:9093</c>.</summary>
    public static QuorumVoter Parse(string text)
    {
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || !int.TryParse(text.AsSpan(0, at), NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
            throw new FormatException($"a voter is written <node-id>@<host>:<port>, e.g. 1@10.0.0.1:9093; got '{text}'");
        if (!IPEndPoint.TryParse(text.AsSpan(at + 1), out var endpoint) || endpoint.Port == 0)
            throw new FormatException($"voter '{text}' needs an IP address and a port after the '@'");
        return new QuorumVoter(id, endpoint);
    }

    public override string ToString() => $"{NodeId}@{Endpoint}";
}

/// <summary>
/// How one node runs its metadata quorum member. The voter set is fixed (Kafka's static
/// <c>controller.quorum.voters</c>): every voter is configured with the same list, which is stored in the
/// quorum directory when it is formatted and must match on every start.
/// </summary>
public sealed record QuorumSettings(int NodeId, IReadOnlyList<QuorumVoter> Voters, string Directory, string ClusterId)
{
    /// <summary>Where this node answers proposals forwarded by other voters; port 0 picks a free one.</summary>
    public IPEndPoint ControllerEndpoint { get; init; } = new(IPAddress.Loopback, 0);

    /// <summary>Raft election timeout range; KRaft uses 1 s. Well above GC pauses and loopback jitter.</summary>
    public TimeSpan LowerElectionTimeout { get; init; } = TimeSpan.FromMilliseconds(1000);

    public TimeSpan UpperElectionTimeout { get; init; } = TimeSpan.FromMilliseconds(2000);

    /// <summary>One Raft request (vote, append); DotNext wants connect &lt; request &lt; lower election timeout.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMilliseconds(800);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>The state machine writes a snapshot every this many applied entries, so the log can be trimmed.</summary>
    public int SnapshotEvery { get; init; } = 1000;

    /// <summary>
    /// Mutual TLS between nodes (broker.security.cluster-ca), or null: then the Raft port and the controller channel are
    /// plain TCP and must sit on a private network. With it, both require a node certificate from the cluster CA.
    /// </summary>
    public Security.ClusterTls? Tls { get; init; }

    /// <summary>
    /// A voter that votes and stores the log but never stands for election (DotNext's standby mode). Not offered in
    /// configuration: tests use it to decide which voter leads.
    /// </summary>
    internal bool NeverLeads { get; init; }

    /// <summary>
    /// Whether this node votes. A node whose id is not in the list is an observer (<see cref="MetadataObserver"/>):
    /// it follows the metadata log through the voters, as Kafka's broker-only nodes do.
    /// </summary>
    public bool IsVoter => Voters.Any(v => v.NodeId == NodeId);

    /// <summary>The node ids of the voters.</summary>
    public IReadOnlySet<int> VoterIds => Voters.Select(v => v.NodeId).ToHashSet();

    public QuorumVoter Self => Voters.FirstOrDefault(v => v.NodeId == NodeId)
        ?? throw new InvalidOperationException($"node {NodeId} is not one of the voters {string.Join(',', Voters)}");

    /// <summary>Null when usable; otherwise what is wrong.</summary>
    public string? Validate()
    {
        if (Voters.Count == 0) return "the metadata quorum needs at least one voter";
        if (Voters.Select(v => v.NodeId).Distinct().Count() != Voters.Count) return $"a node id is named twice in the voters {string.Join(',', Voters)}";
        if (Voters.Select(v => v.Endpoint).Distinct().Count() != Voters.Count) return $"an endpoint is named twice in the voters {string.Join(',', Voters)}";
        if (string.IsNullOrWhiteSpace(ClusterId) || ClusterId.Any(char.IsWhiteSpace)) return "the cluster id must be a non-empty word";
        if (!(ConnectTimeout < RequestTimeout && RequestTimeout < LowerElectionTimeout && LowerElectionTimeout < UpperElectionTimeout))
            return "timeouts must grow: connect < request < lower election < upper election";
        return null;
    }

    /// <summary>The voter list as stored in the quorum directory: sorted by node id, so order in the settings does not matter.</summary>
    public string VotersText => string.Join(',', Voters.OrderBy(v => v.NodeId).Select(v => v.ToString()));
}
