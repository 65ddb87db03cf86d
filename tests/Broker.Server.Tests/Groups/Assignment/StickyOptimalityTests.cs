using Broker.Server.Groups.Assignment;
using Xunit;
using static Broker.Server.Tests.Groups.Assignment.AssignmentInvariants;

namespace Broker.Server.Tests.Groups.Assignment;

/// <summary>
/// The sticky assignor's promise, checked against answers worked out independently: the most balanced
/// assignment (least sum of squared counts) and, among those, the one keeping the most owned partitions.
/// </summary>
public sealed class StickyOptimalityTests
{
    private readonly StickyAssignor _sticky = new();

    [Fact]
    public void Matches_an_exhaustive_search_on_small_groups()
    {
        int searched = 0;
        for (int seed = 0; searched < 400; seed++)
        {
            var c = AssignmentCase.Random(seed, maxMembers: 4, maxTopics: 3, maxPartitions: 3);
            var best = ExhaustiveBest(c);
            if (best is null)
                continue;
            searched++;

            var result = _sticky.Assign(c.Members, c.Counts);
            Assert.True(SquaredLoad(result) == best.Value.SquaredLoad,
                $"squared load {SquaredLoad(result)}, best possible {best.Value.SquaredLoad}; {c}");
            Assert.True(Kept(c, result) == best.Value.Kept,
                $"kept {Kept(c, result)}, best possible {best.Value.Kept}; {c}");
        }
    }

    [Fact]
    public void With_equal_subscriptions_keeps_the_most_owned_partitions_a_balanced_assignment_can()
    {
        int checkedCases = 0;
        for (int seed = 0; seed < 2000; seed++)
        {
            var c = AssignmentCase.Random(seed);
            if (!c.AllSubscriptionsEqual)
                continue;
            checkedCases++;

            // Everyone gets q or q + 1 with r members at q + 1. A member keeps at most its quota of what it
            // owned, and an extra slot only helps a member that owned more than q.
            int members = c.Members.Count, total = c.Assignable.Count;
            int q = total / members, r = total % members;
            var owned = c.Members.Select(m => c.PreviousOwner.Values.Count(o => o == m.MemberId)).ToList();
            int best = owned.Sum(o => Math.Min(o, q)) + Math.Min(r, owned.Count(o => o > q));

            Assert.True(Kept(c, _sticky.Assign(c.Members, c.Counts)) == best, $"kept fewer than {best}; {c}");
        }
        Assert.True(checkedCases > 300, $"only {checkedCases} cases had equal subscriptions");
    }

    /// <summary>Best (least squared load, then most kept) over every assignment, or null if too many to try.</summary>
    private static (int SquaredLoad, int Kept)? ExhaustiveBest(AssignmentCase c)
    {
        var partitions = c.Assignable.Order().ToArray();
        var choices = partitions
            .Select(p => c.EffectiveTopics.Where(kv => kv.Value.Contains(p.Topic)).Select(kv => kv.Key).ToArray())
            .ToArray();
        if (choices.Aggregate(1L, (n, ch) => n * ch.Length) > 200_000)
            return null;

        var counts = c.Members.ToDictionary(m => m.MemberId, _ => 0);
        (int SquaredLoad, int Kept) best = (int.MaxValue, -1);

        void Place(int i, int kept)
        {
            if (i == partitions.Length)
            {
                int load = counts.Values.Sum(n => n * n);
                if (load < best.SquaredLoad || (load == best.SquaredLoad && kept > best.Kept))
                    best = (load, kept);
                return;
            }
            foreach (var member in choices[i])
            {
                counts[member]++;
                Place(i + 1, kept + (c.PreviousOwner.GetValueOrDefault(partitions[i]) == member ? 1 : 0));
                counts[member]--;
            }
        }

        Place(0, 0);
        return best;
    }
}
