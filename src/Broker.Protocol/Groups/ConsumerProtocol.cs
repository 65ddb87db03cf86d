using Broker.Protocol.Serialization;

namespace Broker.Protocol.Groups;

/// <summary>What a consumer tells its group: the topics it subscribes to and the partitions it owned last generation (for the sticky assignor).</summary>
public sealed record ConsumerSubscription(IReadOnlyList<string> Topics, IReadOnlyList<TopicPartition> Owned);

/// <summary>
/// The byte layout of member metadata and assignments for protocol type "consumer" (Kafka's
/// ConsumerProtocol plays the same role). Group messages carry these as opaque bytes, so the coordinator
/// can also relay other protocol types it does not understand.
/// </summary>
public static class ConsumerProtocol
{
    public const string ProtocolType = "consumer";
    private const short Version = 0;

    public static byte[] EncodeSubscription(ConsumerSubscription subscription)
    {
        using var w = new WireWriter();
        w.WriteInt16(Version);
        w.WriteStringList(subscription.Topics);
        GroupMessageWriter.WritePartitions(w, subscription.Owned);
        return w.ToArray();
    }

    /// <summary>Throws <see cref="WireFormatException"/> for bytes that are not a subscription.</summary>
    public static ConsumerSubscription DecodeSubscription(ReadOnlyMemory<byte> bytes)
    {
        var r = new WireReader(bytes);
        ReadVersion(ref r);
        var topics = r.ReadStringList() ?? [];
        var owned = GroupMessageReader.ReadPartitions(ref r);
        r.EnsureEnd();
        return new ConsumerSubscription(topics, owned);
    }

    public static byte[] EncodeAssignment(IReadOnlyList<TopicPartition> partitions)
    {
        using var w = new WireWriter();
        w.WriteInt16(Version);
        GroupMessageWriter.WritePartitions(w, partitions);
        return w.ToArray();
    }

    /// <summary>An empty byte array is an empty assignment; throws <see cref="WireFormatException"/> for anything unreadable.</summary>
    public static IReadOnlyList<TopicPartition> DecodeAssignment(ReadOnlyMemory<byte> bytes)
    {
        if (bytes.IsEmpty) return [];
        var r = new WireReader(bytes);
        ReadVersion(ref r);
        var partitions = GroupMessageReader.ReadPartitions(ref r);
        r.EnsureEnd();
        return partitions;
    }

    private static void ReadVersion(ref WireReader r)
    {
        var version = r.ReadInt16();
        if (version != Version) throw new WireFormatException($"consumer protocol version {version} is not supported (this build reads {Version})");
    }
}
