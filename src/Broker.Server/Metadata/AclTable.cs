using System.Collections.Immutable;
using Akka.DistributedData;
using Broker.Server.Security.Authorization;

namespace Broker.Server.Metadata;

/// <summary>An ACL as the metadata store keeps it; a removal is a tombstone at a higher version, as for topics.</summary>
public sealed record AclEntry(AclBinding Acl, long Version, bool Deleted) : IComparable<AclEntry>
{
    public int CompareTo(AclEntry? other)
    {
        if (other is null) return 1;
        var c = Version.CompareTo(other.Version);
        return c != 0 ? c : Deleted.CompareTo(other.Deleted);
    }
}

/// <summary>Every ACL of the cluster, keyed by <see cref="AclBinding.Key"/>. Key <see cref="MetadataKeys.Acls"/>.</summary>
public sealed class AclTable : VersionedMap<AclEntry, AclTable>
{
    public static readonly AclTable Empty = new(ImmutableSortedDictionary.Create<string, AclEntry>(StringComparer.Ordinal));

    public AclTable(ImmutableSortedDictionary<string, AclEntry> entries) : base(entries) { }

    protected override AclTable With(ImmutableSortedDictionary<string, AclEntry> entries) => new(entries);

    /// <summary>The ACLs in force.</summary>
    public ImmutableArray<AclBinding> Live()
    {
        var live = ImmutableArray.CreateBuilder<AclBinding>(Entries.Count);
        foreach (var entry in Entries.Values)
        {
            if (!entry.Deleted) live.Add(entry.Acl);
        }
        return live.ToImmutable();
    }

    /// <summary>This table with <paramref name="acl"/> in force (unchanged if it already is).</summary>
    public AclTable Add(AclBinding acl) => Get(acl.Key) switch
    {
        { Deleted: false } => this,
        { } tombstone => Put(acl.Key, new AclEntry(acl, tombstone.Version + 1, Deleted: false)),
        null => Put(acl.Key, new AclEntry(acl, 1, Deleted: false)),
    };

    /// <summary>This table without the ACLs <paramref name="filter"/> matches, and which they were.</summary>
    public (AclTable Table, ImmutableArray<AclBinding> Removed) Remove(AclFilter filter)
    {
        var table = this;
        var removed = ImmutableArray.CreateBuilder<AclBinding>();
        foreach (var (key, entry) in Entries)
        {
            if (entry.Deleted || !filter.Matches(entry.Acl)) continue;
            table = table.Put(key, entry with { Version = entry.Version + 1, Deleted = true });
            removed.Add(entry.Acl);
        }
        return (table, removed.ToImmutable());
    }
}

public sealed class AclTableKey() : Key<AclTable>(MetadataKeys.AclsId);
