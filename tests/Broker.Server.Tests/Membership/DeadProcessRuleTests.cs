using Akka.Cluster;
using Broker.Server.Membership;
using Xunit;

namespace Broker.Server.Tests.Membership;

/// <summary>When a member whose port refuses connections is downed without waiting for failure detection.</summary>
public sealed class DeadProcessRuleTests
{
    [Fact]
    public void A_member_refused_twice_is_downed_by_a_node_on_the_majority_side()
    {
        Assert.True(DeadProcessRule.ShouldDown(MemberStatus.Up, refusals: 2, seesMajority: true));
        Assert.False(DeadProcessRule.ShouldDown(MemberStatus.Up, refusals: 1, seesMajority: true)); // one refusal could race a restart's bind
    }

    [Fact]
    public void A_node_that_does_not_see_a_majority_downs_nobody()
    {
        Assert.False(DeadProcessRule.ShouldDown(MemberStatus.Up, refusals: 5, seesMajority: false));
    }

    [Theory]
    [InlineData(MemberStatus.Leaving)]
    [InlineData(MemberStatus.Exiting)]
    [InlineData(MemberStatus.Down)]
    public void A_member_that_is_leaving_or_already_down_is_left_alone(MemberStatus status)
    {
        Assert.False(DeadProcessRule.ShouldDown(status, refusals: 2, seesMajority: true));
    }
}
