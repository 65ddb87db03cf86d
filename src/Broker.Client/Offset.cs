// Special offsets a consumer can start from (same values as Kafka's ListOffsets specs).
namespace Broker.Client;

/// <summary>Special offsets for <see cref="TopicPartitionOffset"/>.</summary>
public static class Offset
{
    /// <summary>The oldest record still in the log (its log start offset).</summary>
    public const long Beginning = -2;

    /// <summary>The end of the log: only records produced from now on.</summary>
    public const long End = -1;

    /// <summary>No offset: what <see cref="Consumer.Committed"/> returns for a partition the group has not committed (Kafka's Offset.Unset).</summary>
    public const long Unset = -1001;
}
