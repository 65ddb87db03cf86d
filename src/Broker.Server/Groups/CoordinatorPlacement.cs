namespace Broker.Server.Groups;

/// <summary>
/// Where a group's coordinator runs as this node's metadata says: beside the live leader of the group's
/// <see cref="OffsetsTopic"/> partition. Kafka clients are served only there, and FindCoordinator names only such a
/// leader, as Kafka does: a request another node forwarded while the coordinator moved could be lost on the way
/// (the shard region still sends to the dead node until it is removed) or wait in a region's buffer, while the
/// client's later requests reached the new coordinator; a Kafka client resends a commit that gets no answer or
/// NOT_COORDINATOR, so the lost commits came back after newer ones and the committed offsets went back.
/// </summary>
internal abstract record CoordinatorPlacement
{
    private CoordinatorPlacement() { }

    /// <summary>The internal topic does not exist yet: the first group request creates it, wherever it is sent.</summary>
    public sealed record NotCreated : CoordinatorPlacement
    {
        public static readonly NotCreated Instance = new();
    }

    /// <summary>This node leads the group's partition, so its coordinator runs here.</summary>
    public sealed record Here : CoordinatorPlacement
    {
        public static readonly Here Instance = new();
    }

    /// <summary>Another live node leads the group's partition.</summary>
    public sealed record Elsewhere(int NodeId) : CoordinatorPlacement;

    /// <summary>No live leader: the partition is electing one (its leader's node died, or it was just created).</summary>
    public sealed record Unknown(string Reason) : CoordinatorPlacement;

    /// <param name="topicExists">Whether this node knows the internal topic.</param>
    /// <param name="leader">The leader of the group's partition in this node's metadata (-1: none).</param>
    /// <param name="self">This node's id.</param>
    /// <param name="isAlive">Whether a node is up and reachable from here.</param>
    /// <param name="hostedHere">Whether the partition's coordinators run on this node now (<see cref="HostedGroupPartitions"/>),
    /// which the metadata may not say yet.</param>
    public static CoordinatorPlacement Of(bool topicExists, int leader, int self, Func<int, bool> isAlive, bool hostedHere = false)
    {
        if (!topicExists) return NotCreated.Instance;
        if (hostedHere) return Here.Instance;
        if (leader <= 0) return new Unknown("its partition of __consumer_offsets has no leader yet");
        if (!isAlive(leader)) return new Unknown($"node {leader}, which led its partition of __consumer_offsets, is down; a new leader is being elected");
        return leader == self ? Here.Instance : new Elsewhere(leader);
    }
}
