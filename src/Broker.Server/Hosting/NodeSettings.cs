namespace Broker.Server.Hosting;

/// <summary>
/// The resolved settings of a node, after every override is applied. <see cref="Host"/>:<see cref="Port"/> is
/// where the node listens; <see cref="PublicHost"/>:<see cref="PublicPort"/> is the address it advertises to
/// other nodes and clients (the same unless set apart, e.g. bind 0.0.0.0 in a container and advertise the
/// address the others reach it at). <see cref="JoinTimeout"/> is how long start waits to be an Up member
/// before it warns and returns (broker.node.join-timeout).
/// </summary>
public sealed record NodeSettings(string Host, int Port, IReadOnlyList<string> Seeds, string Role, string DataDirectory, string JournalPath, int JournalPageSize, int NodeId,
    string PublicHost, int PublicPort, TimeSpan JoinTimeout)
{
    /// <summary>The rack (zone) the node is in, or empty; consumers in the same rack read from its replicas.</summary>
    public string Rack { get; init; } = "";
    /// <summary>The Kafka wire-protocol listener (broker.kafka): a second front door to the same gateway.</summary>
    public Kafka.KafkaSettings Kafka { get; init; } = new(false, Host, 0, PublicHost, 0, 104857600, 100, 1000);
    /// <summary>
    /// The other members of the cluster this data directory belonged to when its node was last Up
    /// (<see cref="Membership.KnownMembers"/>); empty for a new one. The node becomes Up only together with a
    /// majority of them and itself (<see cref="MinMembers"/>), and also looks for them at these addresses.
    /// </summary>
    public IReadOnlyList<Membership.KnownMember> KnownPeers { get; init; } = [];

    /// <summary>
    /// The data directory had no node id before this start: a new node, or one whose disk was lost. Either way it holds
    /// no replica data, so it must not count as in sync anywhere (see <see cref="Partitions.LostLogFence"/>).
    /// </summary>
    public bool NewDataDirectory { get; init; }

    /// <summary>The node must leave every ISR before it runs a replica (a new or wiped directory, or a fence not yet committed).</summary>
    public bool IsrFencePending { get; init; }

    /// <summary>
    /// The node runs a metadata quorum voter (broker.metadata.quorum.voters). Then, once it has been a member, it
    /// never forms a cluster on its own: the quorum's controller does (<see cref="Membership.FormationRule"/>).
    /// </summary>
    public bool HasVoters { get; init; }

    /// <summary>akka.cluster.min-nr-of-members: a majority of the last known cluster, this node included.</summary>
    public int MinMembers => Membership.KnownMembers.Quorum(KnownPeers.Count + 1);
    /// <summary>Mutual TLS between nodes (broker.security), or null when it is off (the default).</summary>
    public Security.ClusterTlsSettings? ClusterTls { get; init; }
    /// <summary>The web page, /api, /metrics and /health (broker.http).</summary>
    public Monitoring.HttpSettings Http { get; init; } = new(false, Host, 0, TimeSpan.FromSeconds(1), true);
    /// <summary>The native clients' own port, with login and ACLs (broker.client-door); off by default.</summary>
    public Gateway.ClientDoor.ClientDoorSettings ClientDoor { get; init; } = new(false, Host, 0, PublicHost, 0, false, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(30));
}
