using System.Collections.Immutable;
using Broker.Server.Metadata;

namespace Broker.Server.Partitions;

/// <summary>
/// Who may become a partition's leader and what it writes, and what a replica does with the outcome (pure rules;
/// the store is <see cref="PartitionMetadataClient"/>'s). A replica in the ISR may lead, with the ISR it and the
/// old members that are alive (a dead one rejoins once caught up); with unclean.leader.election.enable, any
/// replica may, alone in its ISR. A lost election (another home's election or ISR change got there first) is
/// tried again after a pause while the leader entity stays here, so the partition does not answer NotLeader for
/// ever; an unconfirmed one is retried sooner; an ineligible replica refuses requests until the entity moves.
/// </summary>
internal static class ElectionRule
{
    /// <summary>Whether this replica may lead, given the committed state.</summary>
    public abstract record Candidacy
    {
        private Candidacy() { }

        /// <summary>It may: <paramref name="Next"/> is the state to write (the next leader epoch).</summary>
        public sealed record Eligible(PartitionState Next) : Candidacy;

        public sealed record NotEligible(string Reason) : Candidacy;
    }

    /// <summary>What the replica does after an election's write.</summary>
    public abstract record Step
    {
        private Step() { }

        /// <summary>Start leader epoch <paramref name="State"/>.LeaderEpoch.</summary>
        public sealed record Lead(PartitionState State) : Step;

        /// <summary>Lost to a concurrent or late write: follow, and elect again after <paramref name="RetryIn"/> if the entity is still here.</summary>
        public sealed record FollowAndRetry(string Reason, TimeSpan RetryIn) : Step;

        /// <summary>Not in sync: refuse requests; look again after <paramref name="RetryIn"/>.</summary>
        public sealed record RefuseAndRetry(string Reason, TimeSpan RetryIn) : Step;

        /// <summary>Not confirmed: keep waiting and elect again after <paramref name="RetryIn"/>.</summary>
        public sealed record Retry(string Reason, TimeSpan RetryIn) : Step;
    }

    public static readonly TimeSpan UnavailableRetry = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan NotEligibleRetry = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Whether this replica may lead, given the committed state. <paramref name="isolated"/> (null when this node sees
    /// the majority side, else what it sees) makes it stand down: a node that wakes from a pause, or is cut off, sees
    /// the others unreachable, and electing itself with an ISR of the members it can reach would fence the real
    /// leader and leave the partition's only in-sync replica on the node nobody can reach.
    /// </summary>
    public static Candidacy Decide(PartitionState current, int me, ImmutableArray<int> replicas, bool uncleanAllowed, Func<int, bool> isAlive, string? isolated = null)
    {
        if (isolated is not null)
            return new Candidacy.NotEligible($"node {me} does not see a majority of the cluster ({isolated}): it may be the one cut off or just woken from a pause, so it does not stand for election");
        var inSync = current.InIsr(me);
        if (!inSync && !(uncleanAllowed && replicas.Contains(me)))
            return new Candidacy.NotEligible($"node {me} is not in the ISR [{string.Join(",", current.Isr)}]");
        if (!inSync) return new Candidacy.Eligible(new PartitionState(current.LeaderEpoch + 1, 0, me, ImmutableArray.Create(me)));
        var isr = ImmutableArray.CreateBuilder<int>();
        isr.Add(me);
        foreach (var id in current.Isr)
            if (id != me && isAlive(id) && replicas.Contains(id)) isr.Add(id);
        return new Candidacy.Eligible(new PartitionState(current.LeaderEpoch + 1, 0, me, isr.ToImmutable()));
    }

    /// <summary>What to do after the election write; <paramref name="jitterMs"/> (0..499) spreads the retries of replicas that lost to each other.</summary>
    public static Step After(PartitionStateWrite written, int jitterMs) => written switch
    {
        PartitionStateWrite.Written w => new Step.Lead(w.State),
        PartitionStateWrite.Conflict c => new Step.FollowAndRetry(c.Reason, TimeSpan.FromMilliseconds(1000 + jitterMs)),
        PartitionStateWrite.Ineligible i => new Step.RefuseAndRetry(i.Reason, NotEligibleRetry),
        PartitionStateWrite.Unavailable u => new Step.Retry(u.Reason, UnavailableRetry),
        _ => throw new InvalidOperationException($"unknown outcome {written}"),
    };
}
