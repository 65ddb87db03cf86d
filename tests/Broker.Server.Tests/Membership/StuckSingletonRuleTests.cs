using Broker.Server.Membership;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Server.Tests.Membership;

/// <summary>When the oldest member restarts because its singleton manager stopped hosting for good.</summary>
public sealed class StuckSingletonRuleTests
{
    private static readonly TimeSpan After = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _clock = new();
    private readonly StuckSingletonRule _rule;

    public StuckSingletonRuleTests() => _rule = new StuckSingletonRule(After, _clock);

    [Fact]
    public void The_oldest_without_its_singletons_for_the_whole_bound_restarts()
    {
        Assert.False(_rule.ShouldRestart(isOldest: true, hostsSingletons: false));
        _clock.Advance(After - TimeSpan.FromMilliseconds(1));
        Assert.False(_rule.ShouldRestart(isOldest: true, hostsSingletons: false));
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(_rule.ShouldRestart(isOldest: true, hostsSingletons: false));
        Assert.Equal(After, _rule.MissingFor);
    }

    [Fact]
    public void Hosting_them_or_not_being_the_oldest_starts_the_clock_again()
    {
        _rule.ShouldRestart(isOldest: true, hostsSingletons: false);
        _clock.Advance(TimeSpan.FromSeconds(20));
        Assert.False(_rule.ShouldRestart(isOldest: true, hostsSingletons: true)); // the hand-over completed
        _clock.Advance(TimeSpan.FromSeconds(20));
        Assert.False(_rule.ShouldRestart(isOldest: true, hostsSingletons: false));
        _clock.Advance(TimeSpan.FromSeconds(20));
        Assert.False(_rule.ShouldRestart(isOldest: false, hostsSingletons: false)); // an older member appeared: its job
        _clock.Advance(TimeSpan.FromSeconds(20));
        Assert.False(_rule.ShouldRestart(isOldest: true, hostsSingletons: false));
        Assert.Equal(TimeSpan.Zero, _rule.MissingFor);
    }
}
