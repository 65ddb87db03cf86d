using System.Globalization;
using Broker.Protocol;
using Broker.Server.Groups.Assignment;

namespace Broker.Server.Tests.Groups.Assignment;

/// <summary>Short ways to write assignor inputs and outputs, so examples read like Kafka's docs.</summary>
internal static class AssignmentFixtures
{
    /// <summary>A member subscribed to <paramref name="topics"/> that owned nothing before.</summary>
    public static AssignmentMember Member(string id, params string[] topics) => new(id, topics, []);

    /// <summary>A member subscribed to <paramref name="topics"/> that owned <paramref name="owned"/> (as in <see cref="Parts"/>).</summary>
    public static AssignmentMember Member(string id, string[] topics, string owned) => new(id, topics, Parts(owned));

    /// <summary>Topic-partitions in Kafka's spelling, space separated: <c>"t0-0 t0-1 t1-0"</c>.</summary>
    public static TopicPartition[] Parts(string text) =>
        text.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(tp =>
            {
                int dash = tp.LastIndexOf('-');
                return new TopicPartition(tp[..dash], int.Parse(tp[(dash + 1)..], CultureInfo.InvariantCulture));
            })
            .ToArray();

    /// <summary>Partition counts: <c>Counts(("t0", 3), ("t1", 3))</c>.</summary>
    public static Dictionary<string, int> Counts(params (string Topic, int Partitions)[] topics) =>
        topics.ToDictionary(t => t.Topic, t => t.Partitions);

    /// <summary>One member's assignment in the same spelling as <see cref="Parts"/>, for readable assertions.</summary>
    public static string Text(IReadOnlyList<TopicPartition> partitions) => string.Join(' ', partitions.Select(p => $"{p.Topic}-{p.Partition}"));

    /// <summary>The assignment in the form a member would be given it next generation.</summary>
    public static AssignmentMember WithOwned(AssignmentMember member, IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> assignment) =>
        member with { Owned = assignment[member.MemberId] };
}
