using System.Collections.Immutable;
using Akka.DistributedData;
using Broker.Server.Topics;

namespace Broker.Server.Metadata;

/// <summary>
/// A topic as the metadata store keeps it: its descriptor (with replica assignment) at a version. A
/// deletion is an entry too (a tombstone with a higher version), so "deleted" is a committed fact that
/// every node learns, never something inferred from a topic missing in a stale copy.
/// </summary>
public sealed record TopicEntry(TopicDescriptor Topic, long Version, bool Deleted) : IComparable<TopicEntry>
{
    public int CompareTo(TopicEntry? other)
    {
        if (other is null) return 1;
        var c = Version.CompareTo(other.Version);
        if (c != 0) return c;
        c = Deleted.CompareTo(other.Deleted);
        return c != 0 ? c : string.CompareOrdinal(Topic.TopicId, other.Topic.TopicId);
    }
}

/// <summary>Every topic the cluster has (or had, as tombstones), by name. Key <see cref="MetadataKeys.Topics"/>.</summary>
public sealed class TopicTable : VersionedMap<TopicEntry, TopicTable>
{
    public static readonly TopicTable Empty = new(ImmutableSortedDictionary.Create<string, TopicEntry>(StringComparer.Ordinal));

    public TopicTable(ImmutableSortedDictionary<string, TopicEntry> entries) : base(entries) { }

    protected override TopicTable With(ImmutableSortedDictionary<string, TopicEntry> entries) => new(entries);

    /// <summary>The live topic called <paramref name="name"/>, or null if there is none (never created, or deleted).</summary>
    public TopicDescriptor? Find(string name) => Get(name) is { Deleted: false } entry ? entry.Topic : null;

    /// <summary>Live topics, by name.</summary>
    public IEnumerable<TopicDescriptor> Live
    {
        get
        {
            foreach (var entry in Entries.Values)
                if (!entry.Deleted) yield return entry.Topic;
        }
    }
}

public sealed class TopicTableKey() : Key<TopicTable>(MetadataKeys.TopicsId);
