using Broker.Server.Groups.Assignment;
using Xunit;
using static Broker.Server.Tests.Groups.Assignment.AssignmentFixtures;

namespace Broker.Server.Tests.Groups.Assignment;

public sealed class RangeAssignorTests
{
    private readonly RangeAssignor _range = new();

    [Fact]
    public void Kafka_documented_example_two_members_two_topics_of_three()
    {
        var result = _range.Assign([Member("C0", "t0", "t1"), Member("C1", "t0", "t1")], Counts(("t0", 3), ("t1", 3)));

        Assert.Equal("t0-0 t0-1 t1-0 t1-1", Text(result["C0"]));
        Assert.Equal("t0-2 t1-2", Text(result["C1"]));
    }

    [Fact]
    public void Each_member_gets_a_contiguous_range_and_the_first_ones_get_the_remainder()
    {
        var result = _range.Assign([Member("c2", "t"), Member("c0", "t"), Member("c1", "t")], Counts(("t", 8)));

        Assert.Equal("t-0 t-1 t-2", Text(result["c0"]));
        Assert.Equal("t-3 t-4 t-5", Text(result["c1"]));
        Assert.Equal("t-6 t-7", Text(result["c2"]));
    }

    [Fact]
    public void Members_are_ordered_by_ordinal_id_not_input_order()
    {
        // Ordinal: upper case sorts before lower case.
        var result = _range.Assign([Member("b", "t"), Member("A", "t")], Counts(("t", 3)));

        Assert.Equal("t-0 t-1", Text(result["A"]));
        Assert.Equal("t-2", Text(result["b"]));
    }

    [Fact]
    public void Each_topic_is_split_only_among_its_own_subscribers()
    {
        var result = _range.Assign(
            [Member("c0", "t0"), Member("c1", "t0", "t1"), Member("c2", "t1")],
            Counts(("t0", 4), ("t1", 3)));

        Assert.Equal("t0-0 t0-1", Text(result["c0"]));
        Assert.Equal("t0-2 t0-3 t1-0 t1-1", Text(result["c1"]));
        Assert.Equal("t1-2", Text(result["c2"]));
    }

    [Fact]
    public void More_members_than_partitions_leaves_the_last_members_empty()
    {
        var result = _range.Assign([Member("c0", "t"), Member("c1", "t"), Member("c2", "t")], Counts(("t", 2)));

        Assert.Equal("t-0", Text(result["c0"]));
        Assert.Equal("t-1", Text(result["c1"]));
        Assert.Empty(result["c2"]);
    }

    [Fact]
    public void Across_topics_the_remainders_pile_up_on_the_first_member_as_in_Kafka()
    {
        // Balanced per topic (one partition, one member has it), unbalanced overall: range's known trade-off.
        var result = _range.Assign(
            [Member("c0", "a", "b", "c"), Member("c1", "a", "b", "c")],
            Counts(("a", 1), ("b", 1), ("c", 1)));

        Assert.Equal("a-0 b-0 c-0", Text(result["c0"]));
        Assert.Empty(result["c1"]);
    }

    [Fact]
    public void Owned_partitions_do_not_change_the_result()
    {
        var fresh = _range.Assign([Member("c0", "t"), Member("c1", "t")], Counts(("t", 4)));
        var owning = _range.Assign(
            [Member("c0", ["t"], "t-2 t-3"), Member("c1", ["t"], "t-0 t-1")],
            Counts(("t", 4)));

        Assert.Equal(fresh, owning);
    }
}
