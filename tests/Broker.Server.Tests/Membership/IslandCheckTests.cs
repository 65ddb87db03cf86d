using Broker.Server.Membership;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Server.Tests.Membership;

/// <summary>When a voter decides it is on an island the controller's cluster has left behind.</summary>
public sealed class IslandCheckTests
{
    private static readonly TimeSpan After = TimeSpan.FromSeconds(15);
    private readonly FakeTimeProvider _clock = new();
    private readonly IslandCheck _check;

    public IslandCheckTests() => _check = new IslandCheck(After, _clock);

    private IslandCheck.Verdict ObserveAfter(TimeSpan wait, IslandCheck.Outcome outcome)
    {
        _clock.Advance(wait);
        return _check.Observe(outcome);
    }

    [Theory]
    [InlineData(IslandCheck.Outcome.NotMember)]
    [InlineData(IslandCheck.Outcome.Unanswered)]
    public void Failing_checks_for_the_whole_bound_mean_leave(IslandCheck.Outcome outcome)
    {
        Assert.Same(IslandCheck.Verdict.Stay, ObserveAfter(TimeSpan.Zero, outcome));
        Assert.Same(IslandCheck.Verdict.Stay, ObserveAfter(After - TimeSpan.FromMilliseconds(1), outcome));
        var leave = Assert.IsType<IslandCheck.Leave>(ObserveAfter(TimeSpan.FromMilliseconds(1), outcome));
        Assert.Equal((outcome, After), (leave.Last, leave.For));
    }

    [Fact]
    public void Being_counted_once_starts_the_clock_again()
    {
        _check.Observe(IslandCheck.Outcome.Unanswered);
        Assert.Same(IslandCheck.Verdict.Stay, ObserveAfter(TimeSpan.FromSeconds(10), IslandCheck.Outcome.Member));
        Assert.Same(IslandCheck.Verdict.Stay, ObserveAfter(TimeSpan.FromSeconds(1), IslandCheck.Outcome.NotMember));
        Assert.Same(IslandCheck.Verdict.Stay, ObserveAfter(TimeSpan.FromSeconds(14), IslandCheck.Outcome.Unanswered));
        Assert.IsType<IslandCheck.Leave>(ObserveAfter(TimeSpan.FromSeconds(1), IslandCheck.Outcome.Unanswered));
    }

    [Fact]
    public void A_controller_that_Raft_cannot_reach_either_counts_against_nobody()
    {
        // A paused or cut-off controller: neither Akka nor Raft answers. Every other voter sees that; none may leave.
        _check.Observe(IslandCheck.Outcome.Unanswered);
        Assert.Same(IslandCheck.Verdict.Stay, ObserveAfter(TimeSpan.FromSeconds(10), IslandCheck.Outcome.Inconclusive));
        Assert.Same(IslandCheck.Verdict.Stay, ObserveAfter(TimeSpan.FromSeconds(10), IslandCheck.Outcome.Unanswered));
        Assert.Same(IslandCheck.Verdict.Stay, ObserveAfter(TimeSpan.FromSeconds(14), IslandCheck.Outcome.Unanswered));
    }
}
