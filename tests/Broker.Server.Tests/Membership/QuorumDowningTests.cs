using Akka.Actor;
using Akka.Cluster;
using Broker.Server.Membership;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Server.Tests.Membership;

/// <summary>Who downs whom on a metadata quorum: the controller downs the unreachable, a node without the quorum downs itself.</summary>
public sealed class QuorumDowningTests
{
    private static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan MinorityAfter = TimeSpan.FromSeconds(10);
    private static readonly UniqueAddress NodeB = new(new Address("akka.tcp", "broker", "10.0.0.2", 9190), 2);
    private static readonly UniqueAddress NodeC = new(new Address("akka.tcp", "broker", "10.0.0.3", 9190), 3);

    private readonly FakeTimeProvider _clock = new();
    private readonly QuorumDowning _rule;
    private readonly Dictionary<UniqueAddress, MemberStatus> _status = new() { [NodeB] = MemberStatus.Up, [NodeC] = MemberStatus.Up };

    public QuorumDowningTests() => _rule = new QuorumDowning(StableAfter, MinorityAfter, _clock);

    private QuorumDowning.Decision Decide(bool isController) => _rule.Decide(m => _status.TryGetValue(m, out var s) ? s : null, isController);

    [Fact]
    public void The_controller_downs_a_member_unreachable_for_stable_after()
    {
        _rule.MarkedUnreachable(NodeC);
        _clock.Advance(StableAfter - TimeSpan.FromMilliseconds(1));
        Assert.Same(QuorumDowning.Decision.Wait, Decide(isController: true));

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        var down = Assert.IsType<QuorumDowning.DownUnreachable>(Decide(isController: true));
        Assert.Equal([NodeC], down.Members);
        Assert.Equal(StableAfter, down.For);
    }

    /// <summary>The resolver waited for membership to be stable; here a flapping node does not hold up downing a dead one.</summary>
    [Fact]
    public void Another_member_flapping_does_not_hold_up_downing_one_that_stays_unreachable()
    {
        _rule.MarkedUnreachable(NodeC);
        for (var i = 0; i < 3; i++)
        {
            _rule.MarkedUnreachable(NodeB);
            _clock.Advance(TimeSpan.FromSeconds(1));
            _rule.Forget(NodeB); // reachable again
        }
        Assert.Equal([NodeC], Assert.IsType<QuorumDowning.DownUnreachable>(Decide(isController: true)).Members);
    }

    [Fact]
    public void A_node_that_is_not_the_controller_downs_nobody_while_it_reaches_the_quorum()
    {
        _rule.MarkedUnreachable(NodeC);
        _clock.Advance(MinorityAfter * 2);
        _rule.QuorumReached();
        Assert.Same(QuorumDowning.Decision.Wait, Decide(isController: false));
    }

    [Fact]
    public void A_node_that_misses_the_quorum_for_minority_after_while_members_are_unreachable_downs_itself()
    {
        _rule.MarkedUnreachable(NodeC);
        _rule.QuorumMissed();
        _clock.Advance(MinorityAfter - TimeSpan.FromMilliseconds(1));
        _rule.QuorumMissed(); // missed again: still the first time
        Assert.Same(QuorumDowning.Decision.Wait, Decide(isController: false));

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(MinorityAfter, Assert.IsType<QuorumDowning.DownSelf>(Decide(isController: false)).For);
    }

    /// <summary>A controller change takes a few seconds of missed barriers; one that passes starts the count again.</summary>
    [Fact]
    public void Reaching_the_quorum_once_restarts_the_count()
    {
        _rule.MarkedUnreachable(NodeC);
        _rule.QuorumMissed();
        _clock.Advance(TimeSpan.FromSeconds(6));
        _rule.QuorumReached();
        _rule.QuorumMissed();
        _clock.Advance(TimeSpan.FromSeconds(6));
        Assert.Same(QuorumDowning.Decision.Wait, Decide(isController: false));
    }

    /// <summary>The quorum is checked only while someone is unreachable: misses from an earlier episode do not count.</summary>
    [Fact]
    public void Misses_from_an_episode_that_ended_do_not_count_in_the_next()
    {
        _rule.MarkedUnreachable(NodeC);
        _rule.QuorumMissed();
        _clock.Advance(TimeSpan.FromSeconds(5));
        _rule.Forget(NodeC); // reachable again
        _clock.Advance(TimeSpan.FromMinutes(1));
        _rule.MarkedUnreachable(NodeC);
        _rule.QuorumMissed();
        Assert.Same(QuorumDowning.Decision.Wait, Decide(isController: false));
    }

    [Theory]
    [InlineData(MemberStatus.Down)]
    [InlineData(MemberStatus.Exiting)]
    [InlineData(MemberStatus.Removed)]
    public void A_member_someone_already_acted_on_is_forgotten(MemberStatus status)
    {
        _rule.MarkedUnreachable(NodeC);
        _clock.Advance(StableAfter);
        _status[NodeC] = status;
        Assert.Same(QuorumDowning.Decision.Wait, Decide(isController: true));
        Assert.False(_rule.SeesUnreachable);
    }

    [Fact]
    public void A_member_that_left_the_membership_is_forgotten()
    {
        _rule.MarkedUnreachable(NodeC);
        _clock.Advance(StableAfter);
        _status.Remove(NodeC);
        Assert.Same(QuorumDowning.Decision.Wait, Decide(isController: true));
    }

    [Fact]
    public void Every_overdue_member_is_downed_at_once_and_the_others_wait()
    {
        _rule.MarkedUnreachable(NodeB);
        _clock.Advance(TimeSpan.FromSeconds(2));
        _rule.MarkedUnreachable(NodeC);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([NodeB], Assert.IsType<QuorumDowning.DownUnreachable>(Decide(isController: true)).Members);

        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal([NodeB, NodeC], Assert.IsType<QuorumDowning.DownUnreachable>(Decide(isController: true)).Members);
    }
}
