using Akka.Actor;
using Akka.Cluster;
using Broker.Server.Membership;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Server.Tests.Membership;

/// <summary>When the metadata quorum's controller downs a member that the split-brain resolver leaves unreachable.</summary>
public sealed class UnreachableBoundTests
{
    private static readonly TimeSpan After = TimeSpan.FromSeconds(10);
    private static readonly UniqueAddress NodeB = new(new Address("akka.tcp", "broker", "10.0.0.2", 9190), 2);
    private static readonly UniqueAddress NodeC = new(new Address("akka.tcp", "broker", "10.0.0.3", 9190), 3);

    private readonly FakeTimeProvider _clock = new();
    private readonly UnreachableBound _bound;
    private readonly Dictionary<UniqueAddress, MemberStatus> _status = new() { [NodeB] = MemberStatus.Up, [NodeC] = MemberStatus.Up };

    public UnreachableBoundTests() => _bound = new UnreachableBound(After, _clock);

    private UnreachableBound.Decision Decide(bool seesMajority = true, bool isController = true) =>
        _bound.Decide(m => _status.TryGetValue(m, out var s) ? s : null, seesMajority, isController);

    [Fact]
    public void A_member_unreachable_for_the_bound_is_downed_by_the_controller_on_the_majority_side()
    {
        _bound.MarkedUnreachable(NodeC);
        _clock.Advance(After - TimeSpan.FromMilliseconds(1));
        Assert.Same(UnreachableBound.Decision.Wait, Decide());

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        var down = Assert.IsType<UnreachableBound.Down>(Decide());
        Assert.Equal([NodeC], down.Members);
        Assert.Equal(After, down.For);
    }

    [Fact]
    public void The_clock_runs_from_the_first_mark_and_stops_when_the_member_is_reachable_again()
    {
        _bound.MarkedUnreachable(NodeC);
        _clock.Advance(TimeSpan.FromSeconds(6));
        _bound.MarkedUnreachable(NodeC); // marked again by another observer: still the first time
        _clock.Advance(TimeSpan.FromSeconds(4));
        Assert.IsType<UnreachableBound.Down>(Decide());

        _bound.Forget(NodeC); // reachable again
        _bound.MarkedUnreachable(NodeC);
        _clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Same(UnreachableBound.Decision.Wait, Decide());
    }

    [Fact]
    public void A_node_on_the_minority_side_downs_nobody()
    {
        // Cut off with one other node of five, this node sees the rest unreachable: the other side decides.
        _bound.MarkedUnreachable(NodeC);
        _clock.Advance(After);
        Assert.Same(UnreachableBound.Decision.NotOnMajoritySide, Decide(seesMajority: false));
    }

    [Fact]
    public void Only_the_controller_downs_so_two_nodes_do_not_race()
    {
        _bound.MarkedUnreachable(NodeC);
        _clock.Advance(After);
        Assert.Same(UnreachableBound.Decision.NotController, Decide(isController: false));
    }

    [Theory]
    [InlineData(MemberStatus.Down)]
    [InlineData(MemberStatus.Exiting)]
    [InlineData(MemberStatus.Removed)]
    public void A_member_someone_already_acted_on_is_forgotten(MemberStatus status)
    {
        _bound.MarkedUnreachable(NodeC);
        _clock.Advance(After);
        _status[NodeC] = status;
        Assert.Same(UnreachableBound.Decision.Wait, Decide());

        // It stays forgotten: the same incarnation coming back Up would need a new mark.
        _status[NodeC] = MemberStatus.Up;
        Assert.Same(UnreachableBound.Decision.Wait, Decide());
    }

    [Fact]
    public void A_member_that_left_the_membership_is_forgotten()
    {
        _bound.MarkedUnreachable(NodeC);
        _clock.Advance(After);
        _status.Remove(NodeC);
        Assert.Same(UnreachableBound.Decision.Wait, Decide());
    }

    [Fact]
    public void Every_overdue_member_is_downed_at_once_and_the_others_wait()
    {
        _bound.MarkedUnreachable(NodeB);
        _clock.Advance(TimeSpan.FromSeconds(3));
        _bound.MarkedUnreachable(NodeC);
        _clock.Advance(TimeSpan.FromSeconds(7));
        var down = Assert.IsType<UnreachableBound.Down>(Decide());
        Assert.Equal([NodeB], down.Members);

        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal([NodeB, NodeC], Assert.IsType<UnreachableBound.Down>(Decide()).Members);
    }
}
