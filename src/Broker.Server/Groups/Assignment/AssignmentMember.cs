using Broker.Protocol;

namespace Broker.Server.Groups.Assignment;

/// <summary>
/// A consumer group member as an assignor sees it.
/// </summary>
/// <param name="MemberId">The member's id in the group; assignors order members by it (ordinal).</param>
/// <param name="Topics">The topics the member subscribes to. Order and repeats do not matter.</param>
/// <param name="Owned">
/// The partitions the member owned in the previous generation (empty for a new member). Only the sticky
/// assignor reads it; claims on partitions the member can no longer have are dropped, not errors.
/// </param>
public sealed record AssignmentMember(string MemberId, IReadOnlyList<string> Topics, IReadOnlyList<TopicPartition> Owned);
