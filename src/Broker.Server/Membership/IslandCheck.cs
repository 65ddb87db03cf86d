namespace Broker.Server.Membership;

/// <summary>
/// Whether this node is on an island: an Akka cluster of its own that the rest of the cluster has left behind (the rule;
/// the clock is injected). Akka's cluster membership is per node and can diverge for good: the nemesis found a node
/// cut off right after another member had joined, whose failure detector had not yet heard from the newcomer and so
/// counted it reachable; that node kept "a majority" of two of three in its own view and downed the third, while the
/// other two downed it; healed, it never spoke to them again, and served as a cluster of one until someone restarted it
/// (the metadata quorum kept it from deciding anything, so nothing acknowledged was at stake, only its availability).
/// The metadata quorum gives one authority that does not depend on Akka's views: the controller, one per Raft term,
/// backed by a majority of the voters. So every voter asks the controller, over Akka.Remote, whether it counts this
/// node's incarnation as a member. An island either gets no answer (its connections to the others are gone, or the
/// controller is not even a member of its cluster) or the answer "not a member"; when that has lasted
/// <see cref="After"/> while Raft shows the controller alive (a read barrier through it passed), the node downs itself
/// and starts again as a new incarnation that joins the controller's cluster (BrokerNode.RunAsync). A controller that
/// is paused or cut off fails the barrier too: nobody counts that against themselves, so one slow controller never
/// restarts the cluster.
/// </summary>
public sealed class IslandCheck(TimeSpan after, TimeProvider clock)
{
    private DateTimeOffset? _failingSince;

    public TimeSpan After { get; } = after;

    /// <summary>Records one check's outcome and says whether this node should now leave its island.</summary>
    public Verdict Observe(Outcome outcome)
    {
        switch (outcome)
        {
            case Outcome.Member:
            case Outcome.Inconclusive:
                // Counted, or nothing to judge by (no controller, this node leads, or Raft did not answer either):
                // an island is a lasting state, so any break in the evidence starts the clock again.
                _failingSince = null;
                return Verdict.Stay;
            default:
                var now = clock.GetUtcNow();
                _failingSince ??= now;
                return now - _failingSince.Value >= After ? new Leave(outcome, now - _failingSince.Value) : Verdict.Stay;
        }
    }

    /// <summary>
    /// What one check found. <see cref="NotMember"/>: the controller answered that it does not count this incarnation.
    /// <see cref="Unanswered"/>: no answer over Akka (or the controller is not a member of this node's cluster to ask),
    /// while a Raft read barrier through it passed. <see cref="Inconclusive"/>: no controller, this node is the
    /// controller, the node asked says it no longer leads, or neither Akka nor Raft reached it.
    /// </summary>
    public enum Outcome
    {
        Member,
        NotMember,
        Unanswered,
        Inconclusive,
    }

    public abstract record Verdict
    {
        public static readonly Verdict Stay = new Staying();
    }

    public sealed record Staying : Verdict;

    /// <summary>Down this node and start again: the last check found <paramref name="Last"/>, and checks have failed for <paramref name="For"/>.</summary>
    public sealed record Leave(Outcome Last, TimeSpan For) : Verdict;
}
