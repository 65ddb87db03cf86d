using Broker.Server.Groups.Assignment;
using Xunit;
using static Broker.Server.Tests.Groups.Assignment.AssignmentInvariants;

namespace Broker.Server.Tests.Groups.Assignment;

/// <summary>
/// Every assignor against many seeded random groups (1-10 members, 1-4 topics of 1-20 partitions, random
/// subscriptions and prior ownership). A failure message prints the case and its seed.
/// </summary>
public sealed class AssignorPropertyTests
{
    private const int Cases = 1000;

    public static TheoryData<string> AssignorNames() => new(PartitionAssignors.Names);

    [Theory]
    [MemberData(nameof(AssignorNames))]
    public void Every_partition_goes_to_exactly_one_subscribed_member(string name)
    {
        var assignor = PartitionAssignors.Find(name)!;
        for (int seed = 0; seed < Cases; seed++)
        {
            var c = AssignmentCase.Random(seed);
            AssertCoverage(c, assignor.Assign(c.Members, c.Counts));
        }
    }

    [Theory]
    [MemberData(nameof(AssignorNames))]
    public void Same_input_in_any_order_gives_the_same_assignment(string name)
    {
        var assignor = PartitionAssignors.Find(name)!;
        for (int seed = 0; seed < Cases; seed++)
        {
            var c = AssignmentCase.Random(seed);
            var expected = assignor.Assign(c.Members, c.Counts);
            var (members, counts) = c.Shuffled(new Random(~seed));
            AssertSame(expected, assignor.Assign(members, counts), c.ToString());
        }
    }

    [Theory]
    [InlineData("roundrobin")]
    [InlineData("sticky")]
    public void With_equal_subscriptions_counts_are_within_one(string name)
    {
        var assignor = PartitionAssignors.Find(name)!;
        int checkedCases = 0;
        for (int seed = 0; seed < Cases; seed++)
        {
            var c = AssignmentCase.Random(seed);
            if (!c.AllSubscriptionsEqual)
                continue;
            AssertWithinOne(c, assignor.Assign(c.Members, c.Counts), c.EffectiveTopics.Keys);
            checkedCases++;
        }
        Assert.True(checkedCases > Cases / 5, $"only {checkedCases} cases had equal subscriptions");
    }

    [Fact]
    public void Range_balances_each_topic_among_its_subscribers_whatever_the_subscriptions()
    {
        var range = new RangeAssignor();
        for (int seed = 0; seed < Cases; seed++)
        {
            var c = AssignmentCase.Random(seed);
            var result = range.Assign(c.Members, c.Counts);
            foreach (var topic in c.Counts.Keys)
            {
                var subscribers = c.EffectiveTopics.Where(kv => kv.Value.Contains(topic)).Select(kv => kv.Key);
                AssertWithinOne(c, result, subscribers, p => p.Topic == topic, $"{topic} partitions");
            }
        }
    }

    [Fact]
    public void Sticky_keeps_members_with_equal_subscriptions_within_one()
    {
        var sticky = new StickyAssignor();
        for (int seed = 0; seed < Cases; seed++)
        {
            var c = AssignmentCase.Random(seed);
            var result = sticky.Assign(c.Members, c.Counts);
            foreach (var alike in c.EffectiveTopics.GroupBy(kv => string.Join(",", kv.Value.Order(StringComparer.Ordinal))))
                AssertWithinOne(c, result, alike.Select(kv => kv.Key));
        }
    }

    [Fact]
    public void Sticky_leaves_no_partition_that_could_move_to_a_member_with_two_fewer()
    {
        var sticky = new StickyAssignor();
        for (int seed = 0; seed < Cases; seed++)
        {
            var c = AssignmentCase.Random(seed);
            var result = sticky.Assign(c.Members, c.Counts);
            foreach (var (holder, partitions) in result)
            {
                foreach (var topic in partitions.Select(p => p.Topic).Distinct())
                {
                    foreach (var (other, topics) in c.EffectiveTopics)
                    {
                        Assert.False(
                            topics.Contains(topic) && result[holder].Count >= result[other].Count + 2,
                            $"{holder} ({result[holder].Count}) could pass a {topic} partition to {other} ({result[other].Count}); {c}");
                    }
                }
            }
        }
    }

    [Fact]
    public void Sticky_given_its_own_result_as_ownership_returns_it_unchanged()
    {
        var sticky = new StickyAssignor();
        for (int seed = 0; seed < Cases; seed++)
        {
            var c = AssignmentCase.Random(seed);
            var first = sticky.Assign(c.Members, c.Counts);
            var again = sticky.Assign(c.Members.Select(m => m with { Owned = first[m.MemberId] }).ToList(), c.Counts);
            AssertSame(first, again, c.ToString());
        }
    }
}
