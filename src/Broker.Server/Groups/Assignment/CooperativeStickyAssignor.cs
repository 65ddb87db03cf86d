using Broker.Protocol;

namespace Broker.Server.Groups.Assignment;

/// <summary>
/// Kafka's <c>cooperative-sticky</c> strategy: the sticky assignor's target, reached incrementally. The
/// coordinator grants each member only the target partitions nobody else still owns; owners give up what
/// moves, then a follow-up rebalance hands those over, so partitions that stay are consumed throughout
/// (see GroupCoordinatorActor). The assignment itself is the sticky one.
/// </summary>
public sealed class CooperativeStickyAssignor : IPartitionAssignor
{
    private readonly StickyAssignor _sticky = new();

    /// <inheritdoc />
    public string Name => Wellknown.CooperativeStickyAssignor;

    /// <summary>Whether a group using this strategy rebalances incrementally.</summary>
    public static bool IsCooperative(string name) => string.Equals(name, Wellknown.CooperativeStickyAssignor, StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> Assign(
        IReadOnlyList<AssignmentMember> members, IReadOnlyDictionary<string, int> partitionCounts) =>
        _sticky.Assign(members, partitionCounts);
}
