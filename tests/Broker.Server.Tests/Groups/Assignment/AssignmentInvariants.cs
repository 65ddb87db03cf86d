using Broker.Protocol;
using Xunit;

namespace Broker.Server.Tests.Groups.Assignment;

/// <summary>Checks of an assignor's output against its input; each failure message carries the whole case.</summary>
internal static class AssignmentInvariants
{
    /// <summary>Every member has an entry, every assignable partition goes to exactly one subscriber, lists sorted.</summary>
    public static void AssertCoverage(AssignmentCase c, IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> result)
    {
        Assert.True(
            result.Keys.ToHashSet().SetEquals(c.Members.Select(m => m.MemberId)),
            $"members in result [{string.Join(",", result.Keys)}] for {c}");

        var seen = new HashSet<TopicPartition>();
        foreach (var (member, partitions) in result)
        {
            for (int i = 1; i < partitions.Count; i++)
                Assert.True(partitions[i - 1].CompareTo(partitions[i]) < 0, $"{member}'s list is not sorted: {string.Join(" ", partitions)}; {c}");
            foreach (var p in partitions)
            {
                Assert.True(c.Assignable.Contains(p), $"{p} given to {member} does not exist; {c}");
                Assert.True(c.EffectiveTopics[member].Contains(p.Topic), $"{p} given to {member}, not subscribed; {c}");
                Assert.True(seen.Add(p), $"{p} assigned twice; {c}");
            }
        }
        Assert.True(seen.SetEquals(c.Assignable), $"unassigned: {string.Join(" ", c.Assignable.Except(seen))}; {c}");
    }

    /// <summary>Partition counts of the given members differ by at most one.</summary>
    public static void AssertWithinOne(
        AssignmentCase c, IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> result,
        IEnumerable<string> members, Func<TopicPartition, bool>? counted = null, string what = "partitions")
    {
        var counts = members.Select(m => (m, n: result[m].Count(p => counted?.Invoke(p) ?? true))).ToList();
        if (counts.Count == 0)
            return;
        Assert.True(
            counts.Max(x => x.n) - counts.Min(x => x.n) <= 1,
            $"{what} not within one: {string.Join(", ", counts.Select(x => $"{x.m}={x.n}"))}; {c}");
    }

    public static void AssertSame(
        IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> expected,
        IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> actual, string context)
    {
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (member, partitions) in expected)
        {
            Assert.True(partitions.SequenceEqual(actual[member]),
                $"{member}: [{string.Join(" ", partitions)}] vs [{string.Join(" ", actual[member])}]; {context}");
        }
    }

    /// <summary>Sum of squared counts: lower is more balanced.</summary>
    public static int SquaredLoad(IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> result) =>
        result.Values.Sum(p => p.Count * p.Count);

    /// <summary>Partitions that stayed with their previous owner.</summary>
    public static int Kept(AssignmentCase c, IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> result) =>
        result.Sum(kv => kv.Value.Count(p => c.PreviousOwner.GetValueOrDefault(p) == kv.Key));
}
