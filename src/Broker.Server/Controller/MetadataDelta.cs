namespace Broker.Server.Controller;

/// <summary>One partition whose leader/ISR record differs between two images; <see cref="Before"/> is null for a new topic's partition, <see cref="After"/> for a deleted one's.</summary>
public sealed record PartitionDelta(string TopicName, string TopicId, int Partition, PartitionImage? Before, PartitionImage? After);

/// <summary>
/// What changed between two images, for the replicas that act on it (Kafka's <c>MetadataDelta</c>). Images share every
/// unchanged part, so an unchanged topic or partition is the same object in both and costs one reference comparison.
/// </summary>
public static class MetadataDelta
{
    public static IReadOnlyList<PartitionDelta> ChangedPartitions(MetadataImage before, MetadataImage after)
    {
        var changes = new List<PartitionDelta>();
        if (ReferenceEquals(before.Topics, after.Topics)) return changes;
        foreach (var (name, topic) in after.Topics)
        {
            before.Topics.TryGetValue(name, out var old);
            if (ReferenceEquals(old, topic)) continue;
            if (old is not null && old.TopicId != topic.TopicId)
            {
                Removed(changes, old); // deleted and created again between the two images
                old = null;
            }
            for (var p = 0; p < topic.PartitionCount; p++)
            {
                var was = old is not null && p < old.PartitionCount ? old.Partitions[p] : null;
                var now = topic.Partitions[p];
                if (!ReferenceEquals(was, now) && was != now) changes.Add(new PartitionDelta(name, topic.TopicId, p, was, now));
            }
        }
        foreach (var (name, old) in before.Topics)
        {
            if (!after.Topics.ContainsKey(name)) Removed(changes, old);
        }
        return changes;
    }

    private static void Removed(List<PartitionDelta> changes, TopicImage topic)
    {
        for (var p = 0; p < topic.PartitionCount; p++) changes.Add(new PartitionDelta(topic.Name, topic.TopicId, p, topic.Partitions[p], null));
    }
}
