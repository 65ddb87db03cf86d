using Broker.Protocol;
using Broker.Server.Groups.Assignment;

namespace Broker.Server.Tests.Groups.Assignment;

/// <summary>
/// One generated assignor input, with the facts a test needs to judge any output for it. Generated from
/// a seed, so a failing case can be replayed, and printed in full in assertion messages.
/// </summary>
internal sealed class AssignmentCase
{
    /// <summary>Subscribed to by some members but never in the partition counts: a topic not created yet.</summary>
    public const string MissingTopic = "ghost";

    public AssignmentCase(int seed, IReadOnlyList<AssignmentMember> members, Dictionary<string, int> counts)
    {
        Seed = seed;
        Members = members;
        Counts = counts;
        EffectiveTopics = members.ToDictionary(
            m => m.MemberId,
            m => m.Topics.Where(t => counts.GetValueOrDefault(t) > 0).ToHashSet(),
            StringComparer.Ordinal);
        Assignable = counts.Keys
            .Where(t => EffectiveTopics.Values.Any(s => s.Contains(t)))
            .SelectMany(t => Enumerable.Range(0, counts[t]).Select(p => new TopicPartition(t, p)))
            .ToHashSet();

        // The documented tie-break for stale claims: the first valid claimant in ordinal member id order.
        PreviousOwner = new Dictionary<TopicPartition, string>();
        foreach (var member in members.OrderBy(m => m.MemberId, StringComparer.Ordinal))
        {
            foreach (var p in member.Owned)
            {
                if (Assignable.Contains(p) && EffectiveTopics[member.MemberId].Contains(p.Topic))
                    PreviousOwner.TryAdd(p, member.MemberId);
            }
        }
    }

    public int Seed { get; }
    public IReadOnlyList<AssignmentMember> Members { get; }
    public Dictionary<string, int> Counts { get; }

    /// <summary>Each member's subscribed topics that exist.</summary>
    public Dictionary<string, HashSet<string>> EffectiveTopics { get; }

    /// <summary>Every partition some member must get.</summary>
    public HashSet<TopicPartition> Assignable { get; }

    /// <summary>Who the sticky assignor should treat as each partition's previous owner.</summary>
    public Dictionary<TopicPartition, string> PreviousOwner { get; }

    public bool AllSubscriptionsEqual => EffectiveTopics.Values.All(s => s.SetEquals(EffectiveTopics.Values.First()));

    /// <summary>
    /// A random group: <paramref name="maxMembers"/> members with random ids, up to
    /// <paramref name="maxTopics"/> topics of up to <paramref name="maxPartitions"/> partitions, random
    /// (sometimes identical) subscriptions that may name a missing topic, and random prior ownership:
    /// none, a clean earlier split among current and departed members, or arbitrary (stale, duplicated,
    /// out of range) claims.
    /// </summary>
    public static AssignmentCase Random(int seed, int maxMembers = 10, int maxTopics = 4, int maxPartitions = 20)
    {
        var rng = new Random(seed);
        var counts = new Dictionary<string, int>();
        int topicCount = rng.Next(1, maxTopics + 1);
        for (int t = 0; t < topicCount; t++)
            counts[$"t{t}"] = rng.Next(1, maxPartitions + 1);
        var topics = counts.Keys.Append(MissingTopic).ToArray();

        // Mixed-case ids, so ordinal order differs from both creation order and a culture-aware sort.
        var ids = new List<string>();
        int memberCount = rng.Next(1, maxMembers + 1);
        while (ids.Count < memberCount)
        {
            var id = $"{(char)(rng.Next(2) == 0 ? 'A' + rng.Next(3) : 'a' + rng.Next(3))}{rng.Next(20)}";
            if (!ids.Contains(id))
                ids.Add(id);
        }

        bool sameSubscriptions = rng.Next(3) == 0;
        var common = Subset(rng, topics);
        var subscriptions = ids.ToDictionary(id => id, _ => sameSubscriptions ? common : Subset(rng, topics));

        var owned = ids.ToDictionary(id => id, _ => new List<TopicPartition>());
        var everyone = ids.Append("departed").ToArray();
        switch (rng.Next(3))
        {
            case 0:
                break;
            case 1:
                foreach (var (topic, count) in counts)
                {
                    for (int p = 0; p < count; p++)
                    {
                        if (everyone[rng.Next(everyone.Length)] is var owner && owner != "departed")
                            owned[owner].Add(new TopicPartition(topic, p));
                    }
                }

                break;
            default:
                foreach (var id in ids)
                {
                    for (int k = rng.Next(0, 8); k > 0; k--)
                    {
                        var topic = topics[rng.Next(topics.Length)];
                        owned[id].Add(new TopicPartition(topic, rng.Next(0, counts.GetValueOrDefault(topic, 3) + 2)));
                    }
                }

                break;
        }

        var members = ids.Select(id => new AssignmentMember(id, subscriptions[id], owned[id])).ToList();
        return new AssignmentCase(seed, members, counts);
    }

    /// <summary>The same input with members, topics, owned partitions and counts in another order.</summary>
    public (IReadOnlyList<AssignmentMember> Members, Dictionary<string, int> Counts) Shuffled(Random rng)
    {
        var members = Members
            .Select(m => m with { Topics = Shuffle(rng, m.Topics), Owned = Shuffle(rng, m.Owned) })
            .ToArray();
        rng.Shuffle(members);
        var counts = Shuffle(rng, Counts.ToList()).ToDictionary(kv => kv.Key, kv => kv.Value);
        return (members, counts);
    }

    public override string ToString() =>
        $"seed {Seed}; counts {string.Join(", ", Counts.Select(kv => $"{kv.Key}:{kv.Value}"))}; members "
        + string.Join("; ", Members.Select(m => $"{m.MemberId} [{string.Join(",", m.Topics)}] owned [{string.Join(" ", m.Owned)}]"));

    private static string[] Subset(Random rng, string[] topics)
    {
        var chosen = topics.Where(_ => rng.Next(2) == 0).ToArray();
        return chosen.Length > 0 ? chosen : [topics[rng.Next(topics.Length)]];
    }

    private static T[] Shuffle<T>(Random rng, IEnumerable<T> items)
    {
        var array = items.ToArray();
        rng.Shuffle(array);
        return array;
    }
}
