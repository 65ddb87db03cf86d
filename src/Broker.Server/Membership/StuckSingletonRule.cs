namespace Broker.Server.Membership;

/// <summary>
/// When the oldest member must restart because it does not host the cluster singletons (the rule; the clock is
/// injected). Akka's ClusterSingletonManager hosts a singleton on the oldest member. A manager that hands its
/// singleton over to a member that turns out to be older goes to its End state, "waiting for removal", and never
/// hosts it again: Akka assumes the oldest only changes when it leaves. After a full restart two nodes can each
/// count themselves oldest until gossip settles, and the 5-node nemesis found exactly that: the manager of node 3
/// handed the shard coordinator to node 2, went to End, and when node 2 died node 3 was the oldest with no
/// coordinator; no partition could move for minutes. The oldest member that has not hosted the singletons for
/// <see cref="After"/> downs itself: it restarts as the youngest, and the next oldest takes them over.
/// </summary>
public sealed class StuckSingletonRule(TimeSpan after, TimeProvider clock)
{
    private DateTimeOffset? _missingSince;

    public TimeSpan After { get; } = after;

    /// <summary>One look: whether this node is the oldest member now, and whether it hosts the singletons. True: restart.</summary>
    public bool ShouldRestart(bool isOldest, bool hostsSingletons)
    {
        if (!isOldest || hostsSingletons)
        {
            _missingSince = null;
            return false;
        }
        var now = clock.GetUtcNow();
        _missingSince ??= now;
        return now - _missingSince.Value >= After;
    }

    /// <summary>How long the oldest has gone without its singletons (zero while it has them or is not the oldest).</summary>
    public TimeSpan MissingFor => _missingSince is { } since ? clock.GetUtcNow() - since : TimeSpan.Zero;
}
