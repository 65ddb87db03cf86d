namespace Broker.Server.Monitoring;

// What `cluster status --watch`, the web page and /metrics show: one read-only picture of the cluster at one
// moment, built from the same answers a client gets (Metadata, DescribeGroup), so every view agrees with the CLI.

/// <summary>The cluster at one moment: nodes, every partition's leadership and offsets, and consumer groups with lag.</summary>
public sealed record ClusterSnapshot(
    DateTimeOffset At,
    IReadOnlyList<NodeView> Nodes,
    IReadOnlyList<PartitionView> Partitions,
    IReadOnlyList<GroupView> Groups)
{
    public static readonly ClusterSnapshot Empty = new(DateTimeOffset.MinValue, [], [], []);

    public int UnderReplicatedCount => Partitions.Count(p => p.UnderReplicated);

    public int OfflineCount => Partitions.Count(p => p.Offline);
}

/// <summary>
/// A broker node. State is Akka.Cluster's member status (Up, WeaklyUp, Joining, Leaving, Exiting), Unreachable, or Down:
/// a node that replicas are assigned to but that is no longer a cluster member (downed and removed, or not started).
/// </summary>
public sealed record NodeView(int Id, string Address, IReadOnlyList<string> Roles, string State)
{
    public const string Down = "Down";
    public const string Unreachable = "Unreachable";

    public bool IsUp => State is "Up" or "WeaklyUp";
}

/// <summary>One partition as its leader reports it; offsets are -1 while it has no reachable leader.</summary>
public sealed record PartitionView(
    string Topic,
    int Partition,
    int Leader,
    int LeaderEpoch,
    IReadOnlyList<int> Replicas,
    IReadOnlyList<int> Isr,
    IReadOnlyList<int> OfflineReplicas,
    long HighWatermark,
    long LogEndOffset,
    string? Error)
{
    public string Name => $"{Topic}/{Partition}";

    /// <summary>Kafka's meaning: fewer in-sync replicas than assigned ones.</summary>
    public bool UnderReplicated => Isr.Count < Replicas.Count;

    /// <summary>No live leader: nothing can be produced to or fetched from it.</summary>
    public bool Offline => Leader <= 0 || OfflineReplicas.Contains(Leader);
}

/// <summary>A consumer group: its state, generation, members with their partitions, and lag per partition.</summary>
public sealed record GroupView(
    string GroupId,
    string State,
    string Protocol,
    int Generation,
    IReadOnlyList<MemberView> Members,
    IReadOnlyList<GroupPartitionView> Partitions)
{
    public long TotalLag => Partitions.Sum(p => p.Lag ?? 0);
}

public sealed record MemberView(string MemberId, string ClientId, IReadOnlyList<string> Assignment);

/// <summary>A partition the group owns or has committed: committed offset (null: none yet), log end, lag and owner.</summary>
public sealed record GroupPartitionView(string Topic, int Partition, long? Committed, long LogEndOffset, long? Lag, string? Owner);
