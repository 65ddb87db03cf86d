// Consumer settings, named after Kafka's consumer configs.
using Broker.Protocol;

namespace Broker.Client;

/// <summary>What a consumer in a group does when its group has no committed offset for a partition (Kafka's <c>auto.offset.reset</c>).</summary>
public enum AutoOffsetReset
{
    /// <summary>Start at the end: only records produced from now on (Kafka's default).</summary>
    Latest,
    /// <summary>Start at the oldest record still in the log.</summary>
    Earliest,
    /// <summary>Fail with NoOffsetForPartition (Kafka's "none").</summary>
    Error,
}

/// <summary>Settings of a <see cref="Consumer"/>.</summary>
public sealed class ConsumerConfig : ClientConfig
{
    /// <summary>Bytes one fetch of one partition may return (at least one batch is returned even if larger; default 1 MiB).</summary>
    public int FetchMaxBytes { get; set; } = 1048576;

    /// <summary>How long the broker holds a fetch at the end of the log waiting for new records (Kafka's <c>fetch.max.wait.ms</c>; default 500).</summary>
    public int FetchMaxWaitMs { get; set; } = 500;

    /// <summary>The consumer group (Kafka's <c>group.id</c>): needed for <see cref="Consumer.Subscribe(IEnumerable{string})"/> and for commits.</summary>
    public string? GroupId { get; set; }

    /// <summary>Identifies this consumer in <c>broker groups describe</c> (Kafka's <c>client.id</c>).</summary>
    public string ClientId { get; set; } = "broker-consumer";

    /// <summary>
    /// The group drops this member if it sends no heartbeat for this long, and gives its partitions to the
    /// others (Kafka's <c>session.timeout.ms</c>; default 10 s, allowed range set by the broker).
    /// </summary>
    public int SessionTimeoutMs { get; set; } = 10_000;

    /// <summary>How often to heartbeat (Kafka's <c>heartbeat.interval.ms</c>; default 3 s, keep it under a third of the session timeout).</summary>
    public int HeartbeatIntervalMs { get; set; } = 3_000;

    /// <summary>How long a rebalance waits for every member to rejoin before dropping the late ones (Kafka uses <c>max.poll.interval.ms</c>; default 60 s).</summary>
    public int RebalanceTimeoutMs { get; set; } = 60_000;

    /// <summary>
    /// Assignors in order of preference, comma-separated: <c>range</c>, <c>roundrobin</c>, <c>sticky</c>, or
    /// <c>cooperative-sticky</c>, which rebalances incrementally: partitions that stay with a member are consumed
    /// throughout a rebalance, and the callbacks name only what moves (Kafka's <c>partition.assignment.strategy</c>; default range).
    /// </summary>
    public string PartitionAssignmentStrategy { get; set; } = Wellknown.RangeAssignor;

    /// <summary>Commit the consumed positions every <see cref="AutoCommitIntervalMs"/>, before a rebalance and on Close (Kafka's <c>enable.auto.commit</c>; default true).</summary>
    public bool EnableAutoCommit { get; set; } = true;

    /// <summary>Kafka's <c>auto.commit.interval.ms</c>; default 5 s.</summary>
    public int AutoCommitIntervalMs { get; set; } = 5_000;

    /// <summary>Where to start a partition the group has no committed offset for (default Latest, as in Kafka).</summary>
    public AutoOffsetReset AutoOffsetReset { get; set; } = AutoOffsetReset.Latest;

    /// <summary>
    /// The rack (zone) this consumer runs in, Kafka's <c>client.rack</c>: when an in-sync replica of a partition is on a
    /// node started with the same <c>--rack</c>, fetches are served by that replica instead of the leader (KIP-392),
    /// up to that replica's high watermark. Null (default): always the leader.
    /// </summary>
    public string? ClientRack { get; set; }
}
