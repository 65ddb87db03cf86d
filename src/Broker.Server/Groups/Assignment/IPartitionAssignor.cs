using Broker.Protocol;

namespace Broker.Server.Groups.Assignment;

/// <summary>
/// Decides which member of a consumer group reads which partition. Implementations are pure and
/// stateless, so the group coordinator can share one instance and call it from any thread.
/// </summary>
public interface IPartitionAssignor
{
    /// <summary>
    /// <c>range</c>, <c>roundrobin</c> or <c>sticky</c>: Kafka's names for the consumer's
    /// <c>partition.assignment.strategy</c>, so clients can ask for one by the name they already know.
    /// </summary>
    string Name { get; }

    /// <summary>
    /// Assigns every partition of every subscribed, existing topic to exactly one member subscribed to it.
    /// </summary>
    /// <param name="members">The group's members, in any order. Member ids must be distinct.</param>
    /// <param name="partitionCounts">
    /// Topic name to partition count. Subscribed topics missing from it (or with no partitions) are
    /// ignored: they do not exist yet.
    /// </param>
    /// <returns>
    /// An entry for every member (an empty list when it gets nothing), each list sorted by topic then
    /// partition. The same input, in whatever order, gives the same output.
    /// </returns>
    /// <exception cref="ArgumentException">Two members share an id (a bug in the caller).</exception>
    IReadOnlyDictionary<string, IReadOnlyList<TopicPartition>> Assign(
        IReadOnlyList<AssignmentMember> members, IReadOnlyDictionary<string, int> partitionCounts);
}
