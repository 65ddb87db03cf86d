using Broker.Server.Groups.Assignment;
using Xunit;

namespace Broker.Server.Tests.Groups.Assignment;

public sealed class PartitionAssignorsTests
{
    [Theory]
    [InlineData("range", typeof(RangeAssignor))]
    [InlineData("roundrobin", typeof(RoundRobinAssignor))]
    [InlineData("sticky", typeof(StickyAssignor))]
    [InlineData("RoundRobin", typeof(RoundRobinAssignor))]
    [InlineData("STICKY", typeof(StickyAssignor))]
    [InlineData("cooperative-sticky", typeof(CooperativeStickyAssignor))]
    public void Find_returns_the_assignor_by_name_ignoring_case(string name, Type expected)
    {
        var assignor = PartitionAssignors.Find(name);
        Assert.IsType(expected, assignor);
        Assert.Equal(name, assignor!.Name, ignoreCase: true);
    }

    [Theory]
    [InlineData("cooperative-magic")]
    [InlineData("")]
    [InlineData("range ")]
    public void Find_returns_null_for_an_unknown_name(string name) => Assert.Null(PartitionAssignors.Find(name));

    [Fact]
    public void Names_lists_every_assignor_for_error_messages() =>
        Assert.Equal("range, roundrobin, sticky, cooperative-sticky", string.Join(", ", PartitionAssignors.Names));
}
