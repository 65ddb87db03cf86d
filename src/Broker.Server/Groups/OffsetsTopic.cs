namespace Broker.Server.Groups;

/// <summary>
/// The internal topic that holds every group's state (Kafka's <c>__consumer_offsets</c>): a group lives in one of its
/// partitions, and its coordinator runs beside that partition's leader. The partition is Kafka's own rule,
/// <c>Utils.abs(groupId.hashCode()) % partitions</c> with Java's <c>String.hashCode</c>, so a Kafka engineer can
/// say where a group lives.
/// </summary>
public static class OffsetsTopic
{
    public const string Name = "__consumer_offsets";

    /// <summary>True for topics the broker keeps for itself: hidden from a listing of every topic.</summary>
    public static bool IsInternal(string topic) => topic == Name;

    /// <summary>The partition of <paramref name="groupId"/> among <paramref name="partitions"/>: Kafka's <c>abs(hashCode) % n</c>.</summary>
    public static int PartitionFor(string groupId, int partitions) => Abs(JavaHashCode(groupId)) % partitions;

    /// <summary>Java's String.hashCode: s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units, in 32-bit arithmetic.</summary>
    public static int JavaHashCode(string s)
    {
        var h = 0;
        foreach (var c in s) h = unchecked((31 * h) + c);
        return h;
    }

    // Kafka's Utils.abs: int.MinValue maps to 0, not to itself.
    private static int Abs(int n) => n == int.MinValue ? 0 : Math.Abs(n);
}
