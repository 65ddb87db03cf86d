using Akka.Actor;
using Akka.Serialization;
using Broker.Protocol.Messages;
using Broker.Protocol.Serialization;
using Broker.Server.Gateway;
using Broker.Server.Partitions;
using Broker.Server.Topics;

namespace Broker.Server.Serialization;

/// <summary>
/// Binary serializer for node-internal messages and for what the node persists (journal events and
/// snapshots). A journal event of a partition is its batch bytes as they are: BatchAppended is written
/// without a copy and read back without parsing.
/// </summary>
public sealed class ServerSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    private const string BatchAppendedManifest = "B";
    private const string PartitionCreatedManifest = "PC";
    private const string PartitionSnapshotManifest = "PS";
    private const string GetPartitionInfoManifest = "GPI";
    private const string PartitionInfoManifest = "PI";
    private const string GetTopicsManifest = "GT";
    private const string TopicsSnapshotManifest = "TS";
    private const string TopicCreatedManifest = "TC";
    private const string TopicDeletedManifest = "TD";
    private const string GetHostedPartitionsManifest = "GHP";
    private const string HostedPartitionsManifest = "HP";

    public override int Identifier => 4101;

    public override string Manifest(object o) => o switch
    {
        BatchAppended => BatchAppendedManifest,
        PartitionCreated => PartitionCreatedManifest,
        PartitionSnapshot => PartitionSnapshotManifest,
        GetPartitionInfo => GetPartitionInfoManifest,
        PartitionInfo => PartitionInfoManifest,
        GetAllTopics => GetTopicsManifest,
        TopicsSnapshot => TopicsSnapshotManifest,
        TopicCreated => TopicCreatedManifest,
        TopicDeleted => TopicDeletedManifest,
        GetHostedPartitions => GetHostedPartitionsManifest,
        HostedPartitionsReply => HostedPartitionsManifest,
        _ => GroupEventCodec.Manifest(o) ?? throw new ArgumentException($"ServerSerializer cannot serialize {o.GetType()}"),
    };

    public override byte[] ToBinary(object o)
    {
        if (o is BatchAppended appended) return appended.Batch;
        using var w = new WireWriter();
        switch (o)
        {
            case PartitionCreated e:
                w.WriteString(e.TopicId);
                break;
            case PartitionSnapshot s:
                WriteSnapshot(w, s);
                break;
            case GetPartitionInfo g:
                w.WriteString(g.Topic);
                w.WriteInt32(g.Partition);
                break;
            case PartitionInfo i:
                w.WriteString(i.Topic);
                w.WriteInt32(i.Partition);
                w.WriteInt64(i.LogStartOffset);
                w.WriteInt64(i.LogEndOffset);
                w.WriteString(i.Address);
                break;
            case GetAllTopics or GetHostedPartitions:
                break;
            case TopicsSnapshot t:
                w.WriteCount(t.Topics.Count);
                foreach (var topic in t.Topics) WriteTopic(w, topic);
                break;
            case TopicCreated c:
                WriteTopic(w, c.Topic);
                break;
            case TopicDeleted d:
                w.WriteString(d.Name);
                break;
            case HostedPartitionsReply h:
                w.WriteCount(h.Partitions.Count);
                foreach (var p in h.Partitions)
                {
                    w.WriteString(p.Topic);
                    w.WriteInt32(p.Partition);
                    w.WriteString(p.Address);
                }
                break;
            default:
                if (!GroupEventCodec.TryWrite(w, o)) throw new ArgumentException($"ServerSerializer cannot serialize {o.GetType()}");
                break;
        }
        return w.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (manifest == BatchAppendedManifest) return new BatchAppended(bytes);
        var r = new WireReader(bytes);
        switch (manifest)
        {
            case PartitionCreatedManifest:
                return new PartitionCreated(r.ReadString()!);
            case PartitionSnapshotManifest:
                return ReadSnapshot(ref r);
            case GetPartitionInfoManifest:
                return new GetPartitionInfo(r.ReadString()!, r.ReadInt32());
            case PartitionInfoManifest:
                return new PartitionInfo(r.ReadString()!, r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), r.ReadString()!);
            case GetTopicsManifest:
                return GetAllTopics.Instance;
            case GetHostedPartitionsManifest:
                return GetHostedPartitions.Instance;
            case TopicsSnapshotManifest:
            {
                var n = r.ReadCount();
                var topics = new List<TopicDescriptor>(n);
                for (var i = 0; i < n; i++) topics.Add(ReadTopic(ref r));
                return new TopicsSnapshot(topics);
            }
            case TopicCreatedManifest:
                return new TopicCreated(ReadTopic(ref r));
            case TopicDeletedManifest:
                return new TopicDeleted(r.ReadString()!);
            case HostedPartitionsManifest:
            {
                var n = r.ReadCount();
                var list = new List<HostedPartition>(n);
                for (var i = 0; i < n; i++) list.Add(new HostedPartition(r.ReadString()!, r.ReadInt32(), r.ReadString()!));
                return new HostedPartitionsReply(list);
            }
            default:
                return GroupEventCodec.TryRead(ref r, manifest) ?? throw new System.Runtime.Serialization.SerializationException($"ServerSerializer does not know manifest '{manifest}'");
        }
    }

    private static void WriteTopic(WireWriter w, TopicDescriptor t)
    {
        w.WriteString(t.Name);
        w.WriteString(t.TopicId);
        w.WriteInt32(t.Partitions);
        w.WriteInt16(t.ReplicationFactor);
        w.WriteStringMap(t.Configs);
    }

    private static TopicDescriptor ReadTopic(ref WireReader r) =>
        new(r.ReadString()!, r.ReadString()!, r.ReadInt32(), r.ReadInt16(), r.ReadStringMap());

    private static void WriteSnapshot(WireWriter w, PartitionSnapshot s)
    {
        w.WriteString(s.TopicId);
        w.WriteInt64(s.LogStartOffset);
        w.WriteInt64(s.LogEndOffset);
        w.WriteCount(s.BaseOffsets.Length);
        for (var i = 0; i < s.BaseOffsets.Length; i++)
        {
            w.WriteInt64(s.BaseOffsets[i]);
            w.WriteInt32(s.RecordCounts[i]);
            w.WriteInt64(s.SequenceNrs[i]);
            w.WriteInt64(s.MaxTimestamps[i]);
            w.WriteInt32(s.Sizes[i]);
        }
    }

    private static PartitionSnapshot ReadSnapshot(ref WireReader r)
    {
        var topicId = r.ReadString()!;
        var logStart = r.ReadInt64();
        var logEnd = r.ReadInt64();
        var n = r.ReadCount();
        var baseOffsets = new long[n];
        var counts = new int[n];
        var seqs = new long[n];
        var timestamps = new long[n];
        var sizes = new int[n];
        for (var i = 0; i < n; i++)
        {
            baseOffsets[i] = r.ReadInt64();
            counts[i] = r.ReadInt32();
            seqs[i] = r.ReadInt64();
            timestamps[i] = r.ReadInt64();
            sizes[i] = r.ReadInt32();
        }
        return new PartitionSnapshot(topicId, logStart, logEnd, baseOffsets, counts, seqs, timestamps, sizes);
    }
}
