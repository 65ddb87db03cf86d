using System.Collections.Immutable;
using Broker.Protocol.Serialization;
using Broker.Server.Serialization;

namespace Broker.Server.Controller;

/// <summary>
/// The bytes of the metadata log: each entry is a manifest (<c>MRB@1</c>) followed by the record's fields, and a
/// snapshot of the image is one more manifest. A new layout gets a new manifest and the old row stays
/// (<see cref="CodecTable.AddLegacy"/>), so a node reads every entry an older version committed. Results have a
/// layout too, for answers to forwarded proposals.
/// </summary>
public static class MetadataCodec
{
    public const string SnapshotManifest = "MIS@2";

    private static readonly CodecTable Table = new CodecTable()
        .Add<RegisterBroker>("MRB@1", (w, r) =>
        {
            w.WriteInt32(r.BrokerId);
            WriteGuid(w, r.IncarnationId);
            w.WriteInt64(r.PreviousBrokerEpoch);
        }, (ref r, _) => new RegisterBroker(r.ReadInt32(), ReadGuid(ref r), r.ReadInt64()))
        .Add<FenceBroker>("MFB@1", (w, f) =>
        {
            w.WriteInt32(f.BrokerId);
            w.WriteInt64(f.BrokerEpoch);
        }, (ref r, _) => new FenceBroker(r.ReadInt32(), r.ReadInt64()))
        .Add<UnfenceBroker>("MUB@1", (w, u) =>
        {
            w.WriteInt32(u.BrokerId);
            w.WriteInt64(u.BrokerEpoch);
        }, (ref r, _) => new UnfenceBroker(r.ReadInt32(), r.ReadInt64()))
        .Add<CreateTopic>("MCT@1", (w, c) =>
        {
            w.WriteString(c.Name);
            w.WriteString(c.TopicId);
            w.WriteInt16(c.ReplicationFactor);
            w.WriteStringMap(c.Configs);
            WriteReplicaLists(w, c.Assignments);
        }, (ref r, _) => new CreateTopic(r.ReadString()!, r.ReadString()!, r.ReadInt16(), ReadConfigs(ref r), ReadReplicaLists(ref r)))
        .Add<DeleteTopic>("MDT@1", (w, d) => w.WriteString(d.TopicId), (ref r, _) => new DeleteTopic(r.ReadString()!))
        .Add<AlterPartition>("MAP@1", (w, a) =>
        {
            w.WriteString(a.TopicId);
            w.WriteInt32(a.Partition);
            w.WriteInt32(a.LeaderId);
            w.WriteInt64(a.BrokerEpoch);
            w.WriteInt32(a.LeaderEpoch);
            w.WriteInt32(a.PartitionEpoch);
            w.WriteInt32List(a.NewIsr);
        }, (ref r, _) => new AlterPartition(r.ReadString()!, r.ReadInt32(), r.ReadInt32(), r.ReadInt64(), r.ReadInt32(), r.ReadInt32(), [.. r.ReadInt32List()]))
        .Add<ElectLeader>("MEL@1", (w, e) =>
        {
            w.WriteString(e.TopicId);
            w.WriteInt32(e.Partition);
            w.WriteByte((byte)e.Type);
        }, (ref r, _) => new ElectLeader(r.ReadString()!, r.ReadInt32(), (ElectionType)r.ReadByte()))
        .Add<Reassign>("MRA@1", (w, m) =>
        {
            w.WriteString(m.TopicId);
            w.WriteInt32(m.Partition);
            w.WriteInt32List(m.Target);
        }, (ref r, _) => new Reassign(r.ReadString()!, r.ReadInt32(), [.. r.ReadInt32List()]))
        .Add<AllocateProducerIds>("MPI@1", (w, p) =>
        {
            w.WriteInt32(p.BrokerId);
            w.WriteInt64(p.BrokerEpoch);
            w.WriteInt32(p.Count);
        }, (ref r, _) => new AllocateProducerIds(r.ReadInt32(), r.ReadInt64(), r.ReadInt32()))
        .Add<PutEntries>("MPE@1", (w, p) =>
        {
            w.WriteString(p.Map);
            w.WriteCount(p.Changes.Length);
            foreach (var c in p.Changes)
            {
                w.WriteString(c.Key);
                WriteOptionalBytes(w, c.Expected);
                WriteOptionalBytes(w, c.Value);
            }
        }, (ref r, _) => ReadPutEntries(ref r))
        .Add<MetadataImage>(SnapshotManifest, WriteImage, (ref r, _) => ReadImage(ref r, withMaps: true))
        .AddLegacy("MIS@1", (ref r, _) => ReadImage(ref r, withMaps: false))
        // results, for answers to forwarded proposals
        .Add<Refused>("XRF@1", (w, f) =>
        {
            w.WriteByte((byte)f.Error);
            w.WriteString(f.Message);
        }, (ref r, _) => new Refused((MetadataError)r.ReadByte(), r.ReadString() ?? ""))
        .Add<BrokerRegistered>("XBR@1", (w, b) =>
        {
            w.WriteInt32(b.BrokerId);
            w.WriteInt64(b.BrokerEpoch);
        }, (ref r, _) => new BrokerRegistered(r.ReadInt32(), r.ReadInt64()))
        .Add<BrokerFenceChanged>("XBF@1", (w, b) =>
        {
            w.WriteInt32(b.BrokerId);
            w.WriteBool(b.Fenced);
        }, (ref r, _) => new BrokerFenceChanged(r.ReadInt32(), r.ReadBool()))
        .Add<TopicCreated>("XTC@1", (w, t) =>
        {
            w.WriteString(t.Name);
            w.WriteString(t.TopicId);
        }, (ref r, _) => new TopicCreated(r.ReadString()!, r.ReadString()!))
        .Add<TopicDeleted>("XTD@1", (w, t) =>
        {
            w.WriteString(t.Name);
            w.WriteString(t.TopicId);
        }, (ref r, _) => new TopicDeleted(r.ReadString()!, r.ReadString()!))
        .Add<PartitionChanged>("XPC@1", (w, p) =>
        {
            w.WriteString(p.TopicId);
            w.WriteInt32(p.Partition);
            WritePartition(w, p.State);
        }, (ref r, _) => new PartitionChanged(r.ReadString()!, r.ReadInt32(), ReadPartition(ref r)))
        .Add<ProducerIdsAllocated>("XPI@1", (w, p) =>
        {
            w.WriteInt64(p.FirstProducerId);
            w.WriteInt32(p.Count);
        }, (ref r, _) => new ProducerIdsAllocated(r.ReadInt64(), r.ReadInt32()))
        .Add<EntriesPut>("XEP@1", (w, e) =>
        {
            w.WriteString(e.Map);
            w.WriteInt32(e.Count);
            w.WriteInt64(e.Index);
        }, (ref r, _) => new EntriesPut(r.ReadString()!, r.ReadInt32(), r.ReadInt64()));

    /// <summary>A record, a result or an image as manifest + fields.</summary>
    public static byte[] Encode(object value) => Table.ToTagged(value, "metadata");

    /// <summary>Reads what <see cref="Encode"/> wrote; a manifest this version does not know, or trailing bytes, are a <see cref="WireFormatException"/>.</summary>
    public static object Decode(ReadOnlyMemory<byte> bytes) => Table.FromTagged(bytes, "metadata");

    public static MetadataRecord DecodeRecord(ReadOnlyMemory<byte> bytes) =>
        Decode(bytes) as MetadataRecord ?? throw new WireFormatException("metadata entry is not a record");

    public static MetadataResult DecodeResult(ReadOnlyMemory<byte> bytes) =>
        Decode(bytes) as MetadataResult ?? throw new WireFormatException("bytes are not a metadata result");

    private static void WriteGuid(WireWriter w, Guid g)
    {
        Span<byte> bytes = stackalloc byte[16];
        g.TryWriteBytes(bytes);
        w.WriteBytes(bytes);
    }

    private static Guid ReadGuid(ref WireReader r) => new(r.ReadBytesAsMemory().Span);

    private static ImmutableSortedDictionary<string, string> ReadConfigs(ref WireReader r) =>
        r.ReadStringMap().ToImmutableSortedDictionary(StringComparer.Ordinal);

    private static void WriteReplicaLists(WireWriter w, ImmutableArray<ImmutableArray<int>> lists)
    {
        w.WriteCount(lists.Length);
        foreach (var l in lists) w.WriteInt32List(l);
    }

    private static ImmutableArray<ImmutableArray<int>> ReadReplicaLists(ref WireReader r)
    {
        var n = r.ReadCount(4);
        var lists = ImmutableArray.CreateBuilder<ImmutableArray<int>>(n);
        for (var i = 0; i < n; i++) lists.Add([.. r.ReadInt32List()]);
        return lists.MoveToImmutable();
    }

    private static void WriteOptionalBytes(WireWriter w, byte[]? bytes)
    {
        w.WriteBool(bytes is not null);
        if (bytes is not null) w.WriteBytes(bytes);
    }

    private static byte[]? ReadOptionalBytes(ref WireReader r) => r.ReadBool() ? r.ReadBytesAsMemory().ToArray() : null;

    private static PutEntries ReadPutEntries(ref WireReader r)
    {
        var map = r.ReadString()!;
        var n = r.ReadCount(3);
        var changes = ImmutableArray.CreateBuilder<EntryChange>(n);
        for (var i = 0; i < n; i++)
        {
            var key = r.ReadString()!;
            var expected = ReadOptionalBytes(ref r);
            changes.Add(new EntryChange(key, expected, ReadOptionalBytes(ref r)));
        }
        return new PutEntries(map, changes.MoveToImmutable());
    }

    private static void WritePartition(WireWriter w, PartitionImage p)
    {
        w.WriteInt32(p.Leader);
        w.WriteInt32(p.LeaderEpoch);
        w.WriteInt32(p.PartitionEpoch);
        w.WriteInt32List(p.Isr);
    }

    private static PartitionImage ReadPartition(ref WireReader r) => new(r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), [.. r.ReadInt32List()]);

    private static void WriteImage(WireWriter w, MetadataImage image)
    {
        w.WriteInt64(image.AppliedIndex);
        w.WriteInt64(image.LastBrokerEpoch);
        w.WriteInt64(image.NextProducerId);
        w.WriteCount(image.Brokers.Count);
        foreach (var b in image.Brokers.Values)
        {
            w.WriteInt32(b.BrokerId);
            w.WriteInt64(b.BrokerEpoch);
            WriteGuid(w, b.IncarnationId);
            w.WriteBool(b.Fenced);
            w.WriteInt64(b.RegisteredAt);
        }
        w.WriteCount(image.Topics.Count);
        foreach (var t in image.Topics.Values)
        {
            w.WriteString(t.Name);
            w.WriteString(t.TopicId);
            w.WriteInt16(t.ReplicationFactor);
            w.WriteStringMap(t.Configs);
            WriteReplicaLists(w, t.Assignments);
            w.WriteCount(t.Partitions.Length);
            foreach (var p in t.Partitions) WritePartition(w, p);
            w.WriteCount(t.Reassigning.Count);
            foreach (var (partition, target) in t.Reassigning)
            {
                w.WriteInt32(partition);
                w.WriteInt32List(target);
            }
        }
        w.WriteCount(image.Maps.Count);
        foreach (var (name, map) in image.Maps)
        {
            w.WriteString(name);
            w.WriteCount(map.Count);
            foreach (var (key, value) in map)
            {
                w.WriteString(key);
                w.WriteBytes(value);
            }
        }
    }

    private static MetadataImage ReadImage(ref WireReader r, bool withMaps)
    {
        var applied = r.ReadInt64();
        var lastBrokerEpoch = r.ReadInt64();
        var nextProducerId = r.ReadInt64();
        var brokers = ImmutableSortedDictionary.CreateBuilder<int, BrokerImage>();
        for (var n = r.ReadCount(4); n > 0; n--)
        {
            var b = new BrokerImage(r.ReadInt32(), r.ReadInt64(), ReadGuid(ref r), r.ReadBool(), r.ReadInt64());
            brokers[b.BrokerId] = b;
        }
        var topics = ImmutableSortedDictionary.CreateBuilder<string, TopicImage>(StringComparer.Ordinal);
        for (var n = r.ReadCount(4); n > 0; n--)
        {
            var name = r.ReadString()!;
            var topicId = r.ReadString()!;
            var rf = r.ReadInt16();
            var configs = ReadConfigs(ref r);
            var assignments = ReadReplicaLists(ref r);
            var partitions = ImmutableArray.CreateBuilder<PartitionImage>();
            for (var p = r.ReadCount(4); p > 0; p--) partitions.Add(ReadPartition(ref r));
            var moving = ImmutableSortedDictionary.CreateBuilder<int, ImmutableArray<int>>();
            for (var m = r.ReadCount(4); m > 0; m--) moving[r.ReadInt32()] = [.. r.ReadInt32List()];
            topics[name] = new TopicImage(name, topicId, rf, configs, assignments, partitions.ToImmutable(), moving.ToImmutable());
        }
        var image = new MetadataImage(applied, brokers.ToImmutable(), topics.ToImmutable(), lastBrokerEpoch, nextProducerId);
        if (!withMaps) return image;
        var maps = MetadataImage.EmptyMaps.ToBuilder();
        for (var n = r.ReadCount(4); n > 0; n--)
        {
            var name = r.ReadString()!;
            var map = MetadataImage.EmptyMap.ToBuilder();
            for (var e = r.ReadCount(4); e > 0; e--) map[r.ReadString()!] = r.ReadBytesAsMemory().ToArray();
            maps[name] = map.ToImmutable();
        }
        return image with { Maps = maps.ToImmutable() };
    }
}
