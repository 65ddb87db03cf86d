using Broker.Server.Membership;
using Xunit;

namespace Broker.Server.Tests.Membership;

/// <summary>Akka's keep-majority rule, which tells a node whether its view of who is down is the one the cluster acts on.</summary>
public sealed class MajorityRuleTests
{
    [Theory]
    [InlineData(2, 3, false, true)]  // the two survivors of a kill
    [InlineData(1, 3, true, false)]  // a node woken from a pause: everyone else unreachable, lowest address or not
    [InlineData(3, 5, false, true)]
    [InlineData(2, 5, true, false)]
    [InlineData(1, 1, true, true)]   // a single node
    [InlineData(1, 2, true, true)]   // an even split: the side with the lowest address is kept
    [InlineData(1, 2, false, false)]
    [InlineData(2, 4, true, true)]
    [InlineData(2, 4, false, false)]
    public void The_side_with_more_than_half_or_half_with_the_lowest_address_is_kept(int reachable, int members, bool hasLowestAddress, bool kept) =>
        Assert.Equal(kept, MajorityRule.IsKept(reachable, members, hasLowestAddress));
}
