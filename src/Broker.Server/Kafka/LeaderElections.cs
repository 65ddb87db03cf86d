namespace Broker.Server.Kafka;

// ElectLeaders (API 43, KIP-460): which elections are needed and possible, as Kafka's controller decides, and the one
// step this cluster does not take yet (moving a running leader on request), behind ILeaderElector.

/// <summary>Kafka's election types: 0 the preferred replica (the assignment's first), 1 unclean (any live replica when no in-sync one leads).</summary>
internal enum ElectionType : sbyte
{
    Preferred = 0,
    Unclean = 1,
}

/// <summary>What an election request makes of one partition: already done, not possible, or a leader to move.</summary>
internal abstract record ElectionDecision
{
    public sealed record NotNeeded(string Message) : ElectionDecision;

    public sealed record NotPossible(short ErrorCode, string Message) : ElectionDecision;

    public sealed record MoveTo(int Replica) : ElectionDecision;

    /// <summary>
    /// Kafka's rules. Preferred: nothing to do when the first replica leads (ELECTION_NOT_NEEDED); it must be in the ISR
    /// and alive (else PREFERRED_LEADER_NOT_AVAILABLE). Unclean: nothing to do while any leader runs; else the first
    /// live replica, in-sync or not (none alive: ELIGIBLE_LEADERS_NOT_AVAILABLE).
    /// </summary>
    public static ElectionDecision For(ElectionType type, int leader, IReadOnlyList<int> replicas, IReadOnlyList<int> isr, Func<int, bool> isAlive)
    {
        if (type == ElectionType.Preferred)
        {
            if (replicas.Count == 0)
                return new NotPossible(KafkaErrors.PreferredLeaderNotAvailable, "the partition has no replicas");
            var preferred = replicas[0];
            if (leader == preferred) return new NotNeeded($"the preferred replica {preferred} already leads");
            if (!isr.Contains(preferred))
                return new NotPossible(KafkaErrors.PreferredLeaderNotAvailable, $"the preferred replica {preferred} is not in the ISR [{string.Join(",", isr)}]; elect again once it has caught up");
            if (!isAlive(preferred))
                return new NotPossible(KafkaErrors.PreferredLeaderNotAvailable, $"the preferred replica {preferred} is not alive; start node {preferred} and elect again");
            return new MoveTo(preferred);
        }
        if (leader >= 0) return new NotNeeded($"node {leader} leads; an unclean election is only for a partition without a leader");
        foreach (var replica in replicas)
        {
            if (isAlive(replica)) return new MoveTo(replica);
        }
        return new NotPossible(KafkaErrors.EligibleLeadersNotAvailable, $"none of the replicas [{string.Join(",", replicas)}] is alive; start one of those nodes");
    }
}

/// <summary>Moves a partition's leader to a replica the rules chose; null when done, else why not (a Kafka error code and a message).</summary>
internal interface ILeaderElector
{
    Task<(short ErrorCode, string Message)?> ElectAsync(string topic, int partition, int replica, ElectionType type);
}

/// <summary>
/// Today's cluster: a leader runs where sharding's allocation placed it (Partitions/ReplicaAllocationStrategy.cs) and
/// moves only when it leaves the ISR, its node goes, or a reassignment removes it. Moving a healthy leader on request
/// needs a way to ask the shard coordinator's rebalance for it; that waits for the controller's metadata (Raft) work.
/// Until then an election that would move a leader is refused with a message that says what does work.
/// </summary>
internal sealed class NoLeaderMoves : ILeaderElector
{
    public Task<(short ErrorCode, string Message)?> ElectAsync(string topic, int partition, int replica, ElectionType type) =>
        Task.FromResult<(short, string)?>(type == ElectionType.Preferred
            ? (KafkaErrors.PreferredLeaderNotAvailable, $"this cluster cannot move a running leader to replica {replica} on request yet; the leader moves when it leaves the ISR, its node stops, or a reassignment (broker partitions reassign) removes it")
            : (KafkaErrors.EligibleLeadersNotAvailable, $"set unclean.leader.election.enable=true on topic {topic} (broker topics alter --config) and a live replica such as {replica} will lead"));
}
