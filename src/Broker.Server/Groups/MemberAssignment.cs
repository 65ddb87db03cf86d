using Broker.Protocol;

namespace Broker.Server.Groups;

/// <summary>
/// A member's assignment in one generation: the bytes it is handed in its SyncGroupResponse (and that are
/// persisted) with, beside them, the partitions they name, decoded once when the generation or the leader's
/// sync sets them. Partitions are empty for a protocol type other than "consumer" (bytes the coordinator only relays).
/// </summary>
internal sealed record MemberAssignment(byte[] Bytes, IReadOnlyList<TopicPartition> Partitions)
{
    public static readonly MemberAssignment None = new([], []);

    public bool IsEmpty => Bytes.Length == 0;

    public static MemberAssignment Decode(string protocolType, byte[] bytes) =>
        bytes.Length == 0 ? None : new(bytes, GroupAssignmentPlanner.Partitions(protocolType, bytes));
}
