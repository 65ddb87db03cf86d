using Broker.Server.Groups.Assignment;
using Xunit;
using static Broker.Server.Tests.Groups.Assignment.AssignmentFixtures;

namespace Broker.Server.Tests.Groups.Assignment;

public sealed class RoundRobinAssignorTests
{
    private readonly RoundRobinAssignor _roundRobin = new();

    [Fact]
    public void Kafka_documented_example_two_members_two_topics_of_three()
    {
        var result = _roundRobin.Assign([Member("C0", "t0", "t1"), Member("C1", "t0", "t1")], Counts(("t0", 3), ("t1", 3)));

        Assert.Equal("t0-0 t0-2 t1-1", Text(result["C0"]));
        Assert.Equal("t0-1 t1-0 t1-2", Text(result["C1"]));
    }

    [Fact]
    public void Kafka_documented_example_with_different_subscriptions()
    {
        var result = _roundRobin.Assign(
            [Member("C0", "t0"), Member("C1", "t0", "t1"), Member("C2", "t0", "t1", "t2")],
            Counts(("t0", 1), ("t1", 2), ("t2", 3)));

        Assert.Equal("t0-0", Text(result["C0"]));
        Assert.Equal("t1-0", Text(result["C1"]));
        Assert.Equal("t1-1 t2-0 t2-1 t2-2", Text(result["C2"]));
    }

    [Fact]
    public void The_turn_carries_over_from_one_topic_to_the_next()
    {
        // Range would give c0 both first partitions; round robin continues with c1 on the second topic.
        var result = _roundRobin.Assign(
            [Member("c1", "a", "b"), Member("c0", "a", "b"), Member("c2", "a", "b")],
            Counts(("a", 2), ("b", 2)));

        Assert.Equal("a-0 b-1", Text(result["c0"]));
        Assert.Equal("a-1", Text(result["c1"]));
        Assert.Equal("b-0", Text(result["c2"]));
    }

    [Fact]
    public void Equal_subscriptions_balance_across_topics_where_range_does_not()
    {
        var result = _roundRobin.Assign(
            [Member("c0", "a", "b", "c"), Member("c1", "a", "b", "c")],
            Counts(("a", 1), ("b", 1), ("c", 1)));

        Assert.Equal("a-0 c-0", Text(result["c0"]));
        Assert.Equal("b-0", Text(result["c1"]));
    }
}
