namespace Broker.Server.Groups.Assignment;

/// <summary>
/// The assignors the broker offers, looked up by the strategy name a member sends when it joins.
/// </summary>
public static class PartitionAssignors
{
    // Assignors are stateless, so one shared instance of each is enough.
    private static readonly IPartitionAssignor[] All = [new RangeAssignor(), new RoundRobinAssignor(), new StickyAssignor(), new CooperativeStickyAssignor()];

    /// <summary>The assignor with this name (case-insensitive), or null if the broker has none by that name.</summary>
    public static IPartitionAssignor? Find(string name)
    {
        foreach (var assignor in All)
        {
            if (string.Equals(assignor.Name, name, StringComparison.OrdinalIgnoreCase))
                return assignor;
        }

        return null;
    }

    /// <summary>Names of all assignors (<c>range, roundrobin, sticky, cooperative-sticky</c> when joined), for error messages.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.AsReadOnly(Array.ConvertAll(All, a => a.Name));
}
