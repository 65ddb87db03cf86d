using Akka.Cluster;

namespace Broker.Server.Membership;

/// <summary>
/// A bound on how long a member may stay unreachable without anyone downing it (the rule; the clock is injected).
/// The split-brain resolver decides only once membership has been stable for stable-after: while any other node keeps
/// flapping (GC pauses, a starved host, SIGSTOP cycles), it resets its timer and downs nobody, so a node that is
/// cut off for good would keep its partitions leaderless for as long as the flapping lasts. Akka's answer,
/// down-all-when-unstable, downs every node instead, and the whole cluster restarts; this rule downs only the member
/// that has been unreachable too long, and only from a node that is both on the side keep-majority keeps and the
/// metadata quorum's controller (confirmed by a Raft read barrier just before acting): there is one controller per
/// Raft term and it needs a majority of the voters, so two sides of a partition cannot each down the other by this
/// rule. The bound is above what the resolver normally takes (failure detection + stable-after, about 7.5 s), so in
/// a calm cluster the resolver decides first and this rule never acts.
/// </summary>
public sealed class UnreachableBound(TimeSpan after, TimeProvider clock)
{
    private readonly Dictionary<UniqueAddress, DateTimeOffset> _since = new();

    public TimeSpan After { get; } = after;

    /// <summary>This node's failure detector marked the member unreachable (a repeated mark keeps the first time).</summary>
    public void MarkedUnreachable(UniqueAddress member) => _since.TryAdd(member, clock.GetUtcNow());

    /// <summary>Reachable again, downed or removed: the member's clock stops.</summary>
    public void Forget(UniqueAddress member) => _since.Remove(member);

    /// <summary>
    /// What to do now. <paramref name="statusOf"/> gives a member's current status (null when it is no longer a
    /// member); <paramref name="seesMajority"/> is <see cref="LiveNodes.SeesMajority"/> and <paramref name="isController"/>
    /// whether this node believes it leads the metadata quorum (the caller confirms that with a read barrier before it
    /// acts on a <see cref="Down"/>).
    /// </summary>
    public Decision Decide(Func<UniqueAddress, MemberStatus?> statusOf, bool seesMajority, bool isController)
    {
        List<UniqueAddress>? overdue = null;
        List<UniqueAddress>? gone = null;
        var now = clock.GetUtcNow();
        foreach (var (member, since) in _since)
        {
            if (statusOf(member) is not { } status || status is MemberStatus.Down or MemberStatus.Exiting or MemberStatus.Removed)
            {
                (gone ??= []).Add(member); // someone already acted on it, or it left
                continue;
            }
            if (now - since >= After) (overdue ??= []).Add(member);
        }
        if (gone is not null)
            foreach (var member in gone) _since.Remove(member);
        if (overdue is null) return Decision.Wait;
        if (!seesMajority) return Decision.NotOnMajoritySide;
        if (!isController) return Decision.NotController;
        return new Down(overdue, now - _since[overdue[0]]);
    }

    /// <summary>What <see cref="Decide"/> returns.</summary>
    public abstract record Decision
    {
        /// <summary>No member has been unreachable for <see cref="After"/>.</summary>
        public static readonly Decision Wait = new Waiting();

        /// <summary>A member is overdue but this node's view is the minority's: the other side decides.</summary>
        public static readonly Decision NotOnMajoritySide = new Minority();

        /// <summary>A member is overdue but another node leads the metadata quorum: it decides.</summary>
        public static readonly Decision NotController = new OtherController();
    }

    public sealed record Waiting : Decision;

    public sealed record Minority : Decision;

    public sealed record OtherController : Decision;

    /// <summary>Down these members (once the controller has confirmed it still leads); the first has been unreachable for <see cref="For"/>.</summary>
    public sealed record Down(IReadOnlyList<UniqueAddress> Members, TimeSpan For) : Decision;
}
