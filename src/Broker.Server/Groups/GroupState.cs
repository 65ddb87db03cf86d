namespace Broker.Server.Groups;

/// <summary>Kafka's group states; see GroupCoordinatorActor for what moves between them.</summary>
public enum GroupState
{
    /// <summary>No members (may still hold committed offsets).</summary>
    Empty,
    /// <summary>Waiting for every member to (re)join before a new generation starts.</summary>
    PreparingRebalance,
    /// <summary>New generation chosen; waiting for the leader's assignments (classic protocol only).</summary>
    CompletingRebalance,
    /// <summary>Every member has its assignment; heartbeats keep sessions alive.</summary>
    Stable,
    /// <summary>The group does not exist (never had members or offsets).</summary>
    Dead,
}
