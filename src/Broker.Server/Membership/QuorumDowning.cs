using Akka.Cluster;

namespace Broker.Server.Membership;

/// <summary>
/// Who downs whom on a cluster with a metadata quorum (the rule; the clock is injected). Akka's split-brain resolver
/// lets every side of a partition guess from its own count of members: a member still Joining or WeaklyUp does not
/// count, a tie goes to the lowest address, and it decides only after membership has been stable for stable-after.
/// The nemesis found both wrong: a node cut five seconds after another had rejoined left each side counting a tie,
/// all three nodes downed themselves, and the cluster took 20 s and more to re-form; and while any node flapped the
/// resolver downed nobody. The quorum already knows which side may decide: the one that holds a majority of the
/// voters, whose Raft leader is the controller. So:
/// <list type="bullet">
/// <item>the controller downs a member that has been unreachable for <see cref="StableAfter"/> (the caller confirms
/// with a Raft read barrier that it still leads before it acts); other nodes down nobody, so two sides never down
/// each other;</item>
/// <item>a node that sees members unreachable and has not reached the quorum (no read barrier passed) for
/// <see cref="MinorityAfter"/> downs itself: it is on the side without a majority of voters, and the controller on
/// the other side has downed, or will down, it. It then starts again as a new incarnation and rejoins.</item>
/// </list>
/// A member's clock runs from the first time it was marked unreachable (by any observer: Akka's view merges them)
/// and stops when it is reachable again, downed or removed.
/// </summary>
public sealed class QuorumDowning(TimeSpan stableAfter, TimeSpan minorityAfter, TimeProvider clock)
{
    private readonly Dictionary<UniqueAddress, DateTimeOffset> _since = new();
    private DateTimeOffset? _quorumMissedSince;

    public TimeSpan StableAfter { get; } = stableAfter;

    public TimeSpan MinorityAfter { get; } = minorityAfter;

    /// <summary>Whether any member is unreachable now (then the host checks the quorum each round).</summary>
    public bool SeesUnreachable => _since.Count > 0;

    /// <summary>The member was marked unreachable (a repeated mark keeps the first time).</summary>
    public void MarkedUnreachable(UniqueAddress member) => _since.TryAdd(member, clock.GetUtcNow());

    /// <summary>Reachable again, downed or removed: the member's clock stops.</summary>
    public void Forget(UniqueAddress member)
    {
        _since.Remove(member);
        if (_since.Count == 0) _quorumMissedSince = null; // the quorum is checked only while someone is unreachable
    }

    /// <summary>A Raft read barrier passed on this node: it reaches a majority of the voters.</summary>
    public void QuorumReached() => _quorumMissedSince = null;

    /// <summary>A Raft read barrier did not pass in time (a repeated miss keeps the first time).</summary>
    public void QuorumMissed() => _quorumMissedSince ??= clock.GetUtcNow();

    /// <summary>
    /// What to do now. <paramref name="statusOf"/> gives a member's current status (null when it is no longer a
    /// member); <paramref name="isController"/> whether this node believes it leads the metadata quorum.
    /// </summary>
    public Decision Decide(Func<UniqueAddress, MemberStatus?> statusOf, bool isController)
    {
        List<UniqueAddress>? gone = null;
        foreach (var member in _since.Keys)
        {
            if (statusOf(member) is not { } status || status is MemberStatus.Down or MemberStatus.Exiting or MemberStatus.Removed)
                (gone ??= []).Add(member); // someone already acted on it, or it left
        }
        if (gone is not null)
            foreach (var member in gone) Forget(member);
        if (_since.Count == 0) return Decision.Wait;

        var now = clock.GetUtcNow();
        if (isController)
        {
            List<UniqueAddress>? overdue = null;
            var longest = TimeSpan.Zero;
            foreach (var (member, since) in _since)
            {
                if (now - since < StableAfter) continue;
                (overdue ??= []).Add(member);
                if (now - since > longest) longest = now - since;
            }
            return overdue is null ? Decision.Wait : new DownUnreachable(overdue, longest);
        }
        if (_quorumMissedSince is { } missed && now - missed >= MinorityAfter) return new DownSelf(now - missed);
        return Decision.Wait;
    }

    /// <summary>What <see cref="Decide"/> returns.</summary>
    public abstract record Decision
    {
        /// <summary>Nothing to do: nobody is overdue, or another node decides.</summary>
        public static readonly Decision Wait = new Waiting();
    }

    public sealed record Waiting : Decision;

    /// <summary>Down these members (once the controller has confirmed it still leads); the longest has been unreachable for <see cref="For"/>.</summary>
    public sealed record DownUnreachable(IReadOnlyList<UniqueAddress> Members, TimeSpan For) : Decision;

    /// <summary>This node has not reached the quorum for <see cref="For"/> while members are unreachable: down itself.</summary>
    public sealed record DownSelf(TimeSpan For) : Decision;
}
