namespace Broker.Server.Membership;

/// <summary>
/// Who forms the cluster when a node cannot join one (pure rule). Akka lets only the first of a node's seeds form a
/// cluster, and only if that seed is the node itself: with the configured seed dead, nodes that all restarted (the
/// cluster downed them, or they were killed) would ask each other for ever and none would form it. On a metadata
/// quorum the voters already agree on one node, the controller (the Raft leader: one per term, and only with a
/// majority of the voters up). So a node that is still not a member after <see cref="Grace"/> joins with the
/// controller as its first seed, itself if it is the controller: Akka's first-seed process then asks the others
/// first and joins a cluster that one of them is in, and forms one only when nobody answers. The others, with the
/// controller first, join it. A node asks again only when the controller changes. A node that has been a member
/// is never its own first seed before that (NodeConfig), so the configured seed does not form a second cluster.
/// </summary>
public static class FormationRule
{
    /// <summary>How long Akka's own join through the configured seeds and last known members gets first.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The seeds (host:port, first the one that may form the cluster) to join with now, or null to go on waiting:
    /// still in <see cref="Grace"/>, no controller, the controller's address unknown, or already asked for this controller.
    /// </summary>
    public static IReadOnlyList<string>? SeedsToJoin(TimeSpan notMemberFor, int? controllerId, int? askedFor, int selfId, string selfAddress,
        IReadOnlyList<KnownMember> known, IReadOnlyList<string> configuredSeeds)
    {
        if (notMemberFor < Grace || controllerId is not { } controller || controller == askedFor) return null;
        string? first = controller == selfId ? selfAddress : null;
        foreach (var member in known)
            if (member.NodeId == controller) first ??= member.Address;
        if (first is null) return null;
        var seeds = new List<string> { first };
        foreach (var address in configuredSeeds)
            if (address != selfAddress && !seeds.Contains(address)) seeds.Add(address);
        foreach (var member in known)
            if (member.Address != selfAddress && !seeds.Contains(member.Address)) seeds.Add(member.Address);
        return seeds;
    }
}
