using Broker.Protocol;
using Broker.Server.Groups.Assignment;
using Xunit;
using static Broker.Server.Tests.Groups.Assignment.AssignmentFixtures;

namespace Broker.Server.Tests.Groups.Assignment;

public sealed class StickyAssignorTests
{
    private readonly StickyAssignor _sticky = new();

    private static readonly string[] FourTopics = ["t0", "t1", "t2", "t3"];
    private static readonly Dictionary<string, int> FourTopicsOfTwo = Counts(("t0", 2), ("t1", 2), ("t2", 2), ("t3", 2));

    [Fact]
    public void Kafka_documented_example_three_members_four_topics_of_two()
    {
        var result = _sticky.Assign([Member("C0", FourTopics), Member("C1", FourTopics), Member("C2", FourTopics)], FourTopicsOfTwo);

        Assert.Equal("t0-0 t1-1 t3-0", Text(result["C0"]));
        Assert.Equal("t0-1 t2-0 t3-1", Text(result["C1"]));
        Assert.Equal("t1-0 t2-1", Text(result["C2"]));
    }

    [Fact]
    public void Kafka_documented_example_when_C1_leaves_the_others_keep_theirs_and_share_its_partitions()
    {
        var result = _sticky.Assign(
            [Member("C0", FourTopics, "t0-0 t1-1 t3-0"), Member("C2", FourTopics, "t1-0 t2-1")],
            FourTopicsOfTwo);

        Assert.Equal(4, result["C0"].Count);
        Assert.Equal(4, result["C2"].Count);
        Assert.Superset(Parts("t0-0 t1-1 t3-0").ToHashSet(), result["C0"].ToHashSet());
        Assert.Superset(Parts("t1-0 t2-1").ToHashSet(), result["C2"].ToHashSet());
    }

    [Fact]
    public void Kafka_documented_example_with_different_subscriptions()
    {
        var counts = Counts(("t0", 1), ("t1", 2), ("t2", 3));
        var first = _sticky.Assign([Member("C0", "t0"), Member("C1", "t0", "t1"), Member("C2", "t0", "t1", "t2")], counts);

        Assert.Equal("t0-0", Text(first["C0"]));
        Assert.Equal("t1-0 t1-1", Text(first["C1"]));
        Assert.Equal("t2-0 t2-1 t2-2", Text(first["C2"]));

        // C0 leaves: round robin would reshuffle; sticky moves only t0-0, to the lighter of the two.
        var second = _sticky.Assign(
            [Member("C1", ["t0", "t1"], "t1-0 t1-1"), Member("C2", ["t0", "t1", "t2"], "t2-0 t2-1 t2-2")],
            counts);

        Assert.Equal("t0-0 t1-0 t1-1", Text(second["C1"]));
        Assert.Equal("t2-0 t2-1 t2-2", Text(second["C2"]));
    }

    [Fact]
    public void A_joining_member_takes_its_share_from_the_others_and_nothing_else_moves()
    {
        var result = _sticky.Assign(
            [
                Member("c0", ["t"], "t-0 t-1 t-2 t-3"),
                Member("c1", ["t"], "t-4 t-5 t-6"),
                Member("c2", ["t"], "t-7 t-8 t-9"),
                Member("c3", "t"),
            ],
            Counts(("t", 10)));

        // 10 over 4 members: two get 3, two get 2. The newcomer needs 2, so 2 moves is the minimum.
        Assert.Equal(2, result["c3"].Count);
        Assert.Equal(2, Moved(result, ("c0", "t-0 t-1 t-2 t-3"), ("c1", "t-4 t-5 t-6"), ("c2", "t-7 t-8 t-9")));
    }

    [Fact]
    public void A_joining_member_moves_the_minimum_for_any_group_size()
    {
        string[] topics = ["a", "b"];
        for (int members = 1; members <= 6; members++)
        {
            for (int a = 1; a <= 12; a++)
            {
                var counts = Counts(("a", a), ("b", 13 - a));
                var group = Enumerable.Range(0, members).Select(i => Member($"m{i}", topics)).ToList();
                var before = _sticky.Assign(group, counts);

                var joined = group.Select(m => WithOwned(m, before)).Append(Member("new", topics)).ToList();
                var after = _sticky.Assign(joined, counts);

                // The newcomer must end up with at least 13 / (members + 1) partitions, all taken from someone.
                int minimum = 13 / (members + 1);
                Assert.Equal(minimum, after["new"].Count);
                Assert.Equal(minimum, Moved(after, before));
            }
        }
    }

    [Fact]
    public void When_a_member_leaves_only_its_partitions_move()
    {
        string[] topics = ["a", "b"];
        for (int members = 2; members <= 7; members++)
        {
            for (int a = 1; a <= 12; a++)
            {
                var counts = Counts(("a", a), ("b", 13 - a));
                var group = Enumerable.Range(0, members).Select(i => Member($"m{i}", topics)).ToList();
                var before = _sticky.Assign(group, counts);

                foreach (var leaver in group)
                {
                    var staying = group.Where(m => m != leaver).Select(m => WithOwned(m, before)).ToList();
                    var after = _sticky.Assign(staying, counts);

                    foreach (var member in staying)
                        Assert.Superset(before[member.MemberId].ToHashSet(), after[member.MemberId].ToHashSet());
                }
            }
        }
    }

    [Fact]
    public void A_partition_claimed_by_two_members_goes_to_one_the_first_by_member_id()
    {
        var result = _sticky.Assign(
            [Member("c1", ["t"], "t-0 t-1"), Member("c0", ["t"], "t-0 t-1 t-2")],
            Counts(("t", 4)));

        // c0's claims win; it keeps its quota of 2, and c1, whose claims were both stale, gets the rest.
        Assert.Equal("t-0 t-1", Text(result["c0"]));
        Assert.Equal("t-2 t-3", Text(result["c1"]));
    }

    [Fact]
    public void A_partition_claimed_by_two_members_with_different_subscriptions_goes_to_one()
    {
        var result = _sticky.Assign(
            [Member("c0", ["t", "u"], "t-0 u-0"), Member("c1", ["t"], "t-0 t-1")],
            Counts(("t", 2), ("u", 1)));

        Assert.Equal("t-0 u-0", Text(result["c0"]));
        Assert.Equal("t-1", Text(result["c1"]));
    }

    [Fact]
    public void A_partition_listed_twice_by_one_member_counts_once()
    {
        var result = _sticky.Assign([Member("c0", ["t"], "t-0 t-0"), Member("c1", "t")], Counts(("t", 2)));

        Assert.Equal("t-0", Text(result["c0"]));
        Assert.Equal("t-1", Text(result["c1"]));
    }

    [Fact]
    public void Owned_partitions_of_deleted_topics_or_out_of_range_are_dropped()
    {
        var result = _sticky.Assign(
            [Member("c0", ["t", "gone"], "gone-0 t-7 t-1"), Member("c1", "t", "gone")],
            Counts(("t", 2)));

        Assert.Equal("t-1", Text(result["c0"]));
        Assert.Equal("t-0", Text(result["c1"]));
    }

    [Fact]
    public void Owned_partitions_of_a_topic_no_longer_subscribed_go_to_a_subscriber()
    {
        var result = _sticky.Assign(
            [Member("c0", ["t"], "t-0 old-0 old-1"), Member("c1", ["t", "old"], "t-1")],
            Counts(("t", 2), ("old", 2)));

        // old-0 and old-1 can only go to c1, which then passes t-1 to c0 to even the counts.
        Assert.Equal("t-0 t-1", Text(result["c0"]));
        Assert.Equal("old-0 old-1", Text(result["c1"]));
    }

    [Fact]
    public void With_different_subscriptions_members_alike_are_balanced_even_from_skewed_ownership()
    {
        // c0 owned everything; c1 reads the same topics, c2 reads only b.
        var result = _sticky.Assign(
            [
                Member("c0", ["a", "b"], "a-0 a-1 a-2 a-3 a-4 a-5 b-0 b-1 b-2 b-3"),
                Member("c1", "a", "b"),
                Member("c2", "b"),
            ],
            Counts(("a", 6), ("b", 4)));

        // 10 over 3 with c2 limited to b's 4: 4, 3, 3 at best, and c0 should be the one keeping 4.
        Assert.Equal([4, 3, 3], result.Values.Select(p => p.Count));
        Assert.All(result["c2"], p => Assert.Equal("b", p.Topic));
        Assert.Subset(Parts("a-0 a-1 a-2 a-3 a-4 a-5 b-0 b-1 b-2 b-3").ToHashSet(), result["c0"].ToHashSet());
    }

    [Fact]
    public void Balance_passes_partitions_along_a_chain_when_no_direct_move_exists()
    {
        // Counts 3, 2, 1: no neighbour pair is two apart, but c0 (reads only a) is two above c2 (reads
        // only b). Balance needs c0 to pass an a to c1 and c1 to pass a b to c2.
        var result = _sticky.Assign(
            [
                Member("c0", ["a"], "a-0 a-1 a-2"),
                Member("c1", ["a", "b"], "b-0 b-1"),
                Member("c2", ["b"], "b-2"),
            ],
            Counts(("a", 3), ("b", 3)));

        Assert.Equal([2, 2, 2], result.Values.Select(p => p.Count));
        Assert.Subset(Parts("a-0 a-1 a-2").ToHashSet(), result["c0"].ToHashSet());
        Assert.Contains(new TopicPartition("b", 2), result["c2"]);
    }

    [Fact]
    public void Feeding_the_result_back_as_ownership_changes_nothing()
    {
        var members = new List<AssignmentMember>
        {
            Member("c0", "a", "b", "c"), Member("c1", "a"), Member("c2", "b", "c"), Member("c3", "c"),
        };
        var counts = Counts(("a", 5), ("b", 7), ("c", 3));
        var first = _sticky.Assign(members, counts);

        var second = _sticky.Assign(members.Select(m => WithOwned(m, first)).ToList(), counts);

        Assert.Equal(first.ToDictionary(kv => kv.Key, kv => Text(kv.Value)), second.ToDictionary(kv => kv.Key, kv => Text(kv.Value)));
    }

    /// <summary>Partitions now held by a member other than the one that owned them before.</summary>
    private static int Moved(IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> after, params (string Member, string Owned)[] before) =>
        Moved(after, before.ToDictionary(b => b.Member, b => (IReadOnlyList<TopicPartition>)Parts(b.Owned)));

    private static int Moved(IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> after, IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> before)
    {
        var previousOwner = before.SelectMany(kv => kv.Value.Select(p => (p, kv.Key))).ToDictionary(x => x.p, x => x.Key);
        return after.Sum(kv => kv.Value.Count(p => previousOwner.TryGetValue(p, out var owner) && owner != kv.Key));
    }
}
