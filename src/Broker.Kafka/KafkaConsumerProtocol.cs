using Broker.Kafka.Messages;

namespace Broker.Kafka;

/// <summary>
/// Kafka's consumer protocol: the subscription and assignment bytes that Kafka consumers put in JoinGroup
/// and SyncGroup (an int16 version, then ConsumerProtocolSubscription / ConsumerProtocolAssignment at that
/// version). The group coordinator relays them; it reads an assignment to know which partitions a member owns.
/// </summary>
public static class KafkaConsumerProtocol
{
    /// <summary>Reads an assignment; false for bytes that are not one. Versions above ours are read as our highest (Kafka's forward compatibility).</summary>
    public static bool TryReadAssignment(ReadOnlyMemory<byte> bytes, out List<(string Topic, int Partition)> partitions)
    {
        partitions = [];
        try
        {
            var reader = new KafkaReader(bytes);
            var version = reader.ReadInt16();
            if (version < 0) return false;
            var assignment = ConsumerProtocolAssignment.Read(ref reader, Math.Min(version, ConsumerProtocolAssignment.HighestVersion));
            if (version <= ConsumerProtocolAssignment.HighestVersion && reader.Remaining != 0) return false;
            foreach (var t in assignment.AssignedPartitions)
            {
                foreach (var p in t.Partitions)
                    partitions.Add((t.Topic, p));
            }
            return true;
        }
        catch (KafkaProtocolException)
        {
            return false;
        }
    }

    /// <summary>An assignment in version 0 (every Kafka consumer reads it).</summary>
    public static byte[] WriteAssignment(IEnumerable<(string Topic, int Partition)> partitions)
    {
        var byTopic = new List<ConsumerProtocolAssignment.TopicPartition>();
        foreach (var group in partitions.GroupBy(p => p.Topic, StringComparer.Ordinal))
            byTopic.Add(new ConsumerProtocolAssignment.TopicPartition { Topic = group.Key, Partitions = group.Select(p => p.Partition).ToList() });
        using var writer = new KafkaWriter();
        writer.WriteInt16(0);
        new ConsumerProtocolAssignment { AssignedPartitions = byTopic }.Write(writer, 0);
        return writer.WrittenSpan.ToArray();
    }
}
