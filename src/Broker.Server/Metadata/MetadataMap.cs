using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Broker.Server.Serialization;

namespace Broker.Server.Metadata;

/// <summary>
/// One of the broker's metadata tables as the metadata quorum stores it: a named map of entries, each entry the
/// encoding of a one-entry table (so the layouts and their versions are the serializer's). Decoding is cached per
/// stored map and per entry: maps and entries that did not change are the same objects from image to image.
/// </summary>
internal sealed class MetadataMap<TValue, TTable>(string name, TTable empty, Func<ImmutableSortedDictionary<string, TValue>, TTable> create)
    where TValue : class, IComparable<TValue>
    where TTable : VersionedMap<TValue, TTable>
{
    private readonly ConditionalWeakTable<ImmutableSortedDictionary<string, byte[]>, TTable> _tables = new();
    private readonly ConditionalWeakTable<byte[], TValue> _values = new();

    public string Name => name;

    public TTable Empty => empty;

    /// <summary>
    /// The stored bytes of the entry <paramref name="key"/>: a one-entry table under that same key, since some tables
    /// read a value's own name from its key (a user written under "" came back nameless: `broker users list` said "no user ").
    /// </summary>
    public byte[] Encode(string key, TValue value) => ServerSerializer.EncodeTagged(empty.Put(key, value));

    public TTable Decode(ImmutableSortedDictionary<string, byte[]> stored) => _tables.GetValue(stored, map =>
    {
        var entries = ImmutableSortedDictionary.CreateBuilder<string, TValue>(StringComparer.Ordinal);
        foreach (var (key, bytes) in map) entries[key] = _values.GetValue(bytes, DecodeValue);
        return create(entries.ToImmutable());
    });

    private TValue DecodeValue(byte[] bytes) =>
        ServerSerializer.DecodeTagged(bytes) is TTable { Entries.Count: 1 } table
            ? table.Entries.Values.First()
            : throw new Protocol.Serialization.WireFormatException($"metadata map {name}: an entry is not a one-entry {typeof(TTable).Name}");
}

/// <summary>The tables the broker keeps in the metadata quorum.</summary>
internal static class MetadataMaps
{
    public static readonly MetadataMap<TopicEntry, TopicTable> Topics = new("topics", TopicTable.Empty, e => new TopicTable(e));

    public static readonly MetadataMap<PartitionState, PartitionStateTable> Partitions = new("partitions", PartitionStateTable.Empty, e => new PartitionStateTable(e));

    public static readonly MetadataMap<ProducerIdBlock, ProducerIdBlocks> ProducerIds = new("producer-ids", ProducerIdBlocks.Empty, e => new ProducerIdBlocks(e));

    public static readonly MetadataMap<AclEntry, AclTable> Acls = new("acls", AclTable.Empty, e => new AclTable(e));

    public static readonly MetadataMap<UserEntry, UserTable> Users = new("users", UserTable.Empty, e => new UserTable(e));
}
