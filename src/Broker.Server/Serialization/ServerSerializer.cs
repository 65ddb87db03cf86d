using System.Collections.Immutable;
using System.Text;
using Akka.Actor;
using Akka.Serialization;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Serialization;
using Broker.Server.Controller.Quorum;
using Broker.Server.Gateway;
using Broker.Server.Groups;
using Broker.Server.Metadata;
using Broker.Server.Partitions;
using Broker.Server.Security.Authorization;
using Broker.Server.Security.Sasl;
using Broker.Server.Topics;

namespace Broker.Server.Serialization;

/// <summary>
/// Binary serializer for node-internal messages and for what the node persists (journal events, snapshots,
/// the metadata store's durable entries). One row per message in <see cref="Codecs"/>. A partition's journal
/// event is its batch bytes as they are (their own format version is the RecordBatch magic byte):
/// BatchAppended is written without a copy and read back without parsing.
/// </summary>
public sealed class ServerSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    private const string BatchAppendedManifest = "B";

    private static readonly CodecTable Codecs = new CodecTable()
        // ---- persisted: journal events and snapshots of partitions (version in the manifest) ----
        .Add<PartitionCreated>("PC", (w, e) => w.WriteString(e.TopicId), (ref WireReader r, byte[] _) => new PartitionCreated(r.ReadString()!))
        .Add<LeaderEpochStarted>("LE@1", (w, e) =>
        {
            w.WriteInt32(e.Epoch);
            w.WriteInt64(e.StartOffset);
        }, (ref WireReader r, byte[] _) => new LeaderEpochStarted(r.ReadInt32(), r.ReadInt64()))
        .Add<LogTruncated>("LT@1", (w, e) => w.WriteInt64(e.Offset), (ref WireReader r, byte[] _) => new LogTruncated(r.ReadInt64()))
        .Add<LogStartAdvanced>("LSA@1", (w, e) => w.WriteInt64(e.Offset), (ref WireReader r, byte[] _) => new LogStartAdvanced(r.ReadInt64()))
        .Add<RecordsDeleted>("RD@1", (w, e) => w.WriteInt64(e.Offset), (ref WireReader r, byte[] _) => new RecordsDeleted(r.ReadInt64()))
        .Add<PartitionSnapshot>("PS@3", WriteSnapshot, (ref WireReader r, byte[] _) => ReadSnapshot(ref r, version: 3))
        .AddLegacy("PS@2", (ref WireReader r, byte[] _) => ReadSnapshot(ref r, version: 2))
        .AddLegacy("PS", (ref WireReader r, byte[] _) => ReadSnapshot(ref r, version: 1))
        // ---- persisted by the metadata store (LMDB) and gossiped ----
        .Add<TopicTable>("TT@2", WriteTopicTable, (ref WireReader r, byte[] _) => ReadTopicTable(ref r, withReassignments: true))
        .AddLegacy("TT@1", (ref WireReader r, byte[] _) => ReadTopicTable(ref r, withReassignments: false))
        .Add<PartitionStateTable>("PST@1", WritePartitionStates, (ref WireReader r, byte[] _) => ReadPartitionStates(ref r))
        .Add<ProducerIdBlocks>("PIB@1", (w, t) =>
        {
            w.WriteCount(t.Entries.Count);
            foreach (var (key, block) in t.Entries)
            {
                w.WriteString(key);
                w.WriteInt64(block.Next);
            }
        }, (ref WireReader r, byte[] _) =>
        {
            var n = r.ReadCount(1 + 8);
            var builder = ImmutableSortedDictionary.CreateBuilder<string, ProducerIdBlock>(StringComparer.Ordinal);
            for (var i = 0; i < n; i++) builder[r.ReadString()!] = new ProducerIdBlock(r.ReadInt64());
            return new ProducerIdBlocks(builder.ToImmutable());
        })
        .Add<AclTable>("ACL@1", WriteAclTable, (ref WireReader r, byte[] _) => ReadAclTable(ref r))
        .Add<UserTable>("USR@1", WriteUserTable, (ref WireReader r, byte[] _) => ReadUserTable(ref r))
        // ---- node-internal requests and replies ----
        // ---- an observer and the voters (Controller/Quorum/ObserverMessages.cs) ----
        .Add<MetadataFetch>("MF@1", (w, f) =>
        {
            w.WriteInt64(f.AfterIndex);
            w.WriteBool(f.Barrier);
            w.WriteInt32(f.WaitMs);
        }, (ref WireReader r, byte[] _) => new MetadataFetch(r.ReadInt64(), r.ReadBool(), r.ReadInt32()))
        .Add<MetadataFetched>("MFD@1", (w, f) =>
        {
            w.WriteInt64(f.AppliedIndex);
            w.WriteInt32(f.ControllerId);
            w.WriteNullableBytes(f.Snapshot is { } snapshot ? (ReadOnlyMemory<byte>?)snapshot : null); // (a null byte[] would convert to an empty, non-null memory)
            w.WriteCount(f.Records.Length);
            foreach (var record in f.Records)
            {
                w.WriteInt64(record.Index);
                w.WriteBytes(record.Record.Span);
            }
        }, (ref WireReader r, byte[] _) =>
        {
            var (applied, controller, snapshot) = (r.ReadInt64(), r.ReadInt32(), r.ReadNullableBytes());
            var n = r.ReadCount(8 + 4);
            var records = ImmutableArray.CreateBuilder<FetchedRecord>(n);
            for (var i = 0; i < n; i++) records.Add(new FetchedRecord(r.ReadInt64(), r.ReadBytesAsMemory()));
            return new MetadataFetched(applied, controller, snapshot?.ToArray(), records.MoveToImmutable());
        })
        .Add<MetadataUnavailable>("MU@1", (w, u) => w.WriteString(u.Reason), (ref WireReader r, byte[] _) => new MetadataUnavailable(r.ReadString()!))
        .Add<MetadataPropose>("MP@1", (w, p) => w.WriteBytes(p.Record), (ref WireReader r, byte[] _) => new MetadataPropose(r.ReadBytesAsMemory().ToArray()))
        .Add<MetadataProposed>("MPD@1", (w, p) => w.WriteBytes(p.Result), (ref WireReader r, byte[] _) => new MetadataProposed(r.ReadBytesAsMemory().ToArray()))
        .Add<MembershipCheck>("MC@1", (w, c) =>
        {
            w.WriteString(c.Address);
            w.WriteInt32(c.Uid);
        }, (ref WireReader r, byte[] _) => new MembershipCheck(r.ReadString()!, r.ReadInt32()))
        .Add<MembershipChecked>("MCD@1", (w, c) =>
        {
            w.WriteBool(c.IsController);
            w.WriteBool(c.IsMember);
        }, (ref WireReader r, byte[] _) => new MembershipChecked(r.ReadBool(), r.ReadBool()))
        .Add<VoterLogAsk>("VLA@1", (_, _) => { }, (ref WireReader _, byte[] _) => VoterLogAsk.Instance)
        .Add<VoterLogState>("VLS@1", (w, v) =>
        {
            w.WriteInt32(v.NodeId);
            w.WriteInt64(v.LastLogIndex);
            w.WriteBool(v.CatchingUp);
        }, (ref WireReader r, byte[] _) => new VoterLogState(r.ReadInt32(), r.ReadInt64(), r.ReadBool()))
        .Add<AppendBatch>("AB@4", (w, a) =>
        {
            w.WriteString(a.Topic);
            w.WriteInt32(a.Partition);
            w.WriteString(a.TopicId);
            w.WriteInt16(a.Acks);
            w.WriteInt32(a.LeaderEpoch);
            w.WriteBool(a.ExactLeaderEpoch);
            w.WriteBytes(a.Batch.Span);
        }, (ref WireReader r, byte[] _) =>
        {
            var (topic, partition, topicId, acks, epoch, exact) = (r.ReadString()!, r.ReadInt32(), r.ReadString()!, r.ReadInt16(), r.ReadInt32(), r.ReadBool());
            return new AppendBatch(topic, partition, topicId, acks, r.ReadBytesAsMemory()) { LeaderEpoch = epoch, ExactLeaderEpoch = exact };
        }, a => StringSize(a.Topic) + 4 + StringSize(a.TopicId) + 2 + 4 + 1 + 4 + a.Batch.Length)
        .AddLegacy("AB@3", (ref WireReader r, byte[] _) =>
        {
            var (topic, partition, topicId, acks, epoch) = (r.ReadString()!, r.ReadInt32(), r.ReadString()!, r.ReadInt16(), r.ReadInt32());
            return new AppendBatch(topic, partition, topicId, acks, r.ReadBytesAsMemory()) { LeaderEpoch = epoch };
        })
        .AddLegacy("AB@2", (ref WireReader r, byte[] _) => new AppendBatch(r.ReadString()!, r.ReadInt32(), r.ReadString()!, r.ReadInt16(), r.ReadBytesAsMemory()))
        .Add<ListCoordinatedGroups>("LCG@1", (w, l) =>
        {
            w.WriteString(l.Topic);
            w.WriteInt32(l.Partition);
        }, (ref WireReader r, byte[] _) => new ListCoordinatedGroups(r.ReadString()!, r.ReadInt32()))
        .Add<AppendResult>("AR2", (w, a) =>
        {
            w.WriteString(a.Topic);
            w.WriteInt32(a.Partition);
            w.WriteInt16((short)a.Error);
            w.WriteString(a.ErrorMessage);
            w.WriteInt64(a.BaseOffset);
            w.WriteInt64(a.LogAppendTime);
            var errors = a.RecordErrors ?? [];
            w.WriteInt32(errors.Count);
            foreach (var e in errors)
            {
                w.WriteInt32(e.BatchIndex);
                w.WriteString(e.Message);
            }
        }, (ref WireReader r, byte[] _) =>
        {
            var result = new AppendResult(r.ReadString()!, r.ReadInt32(), (ErrorCode)r.ReadInt16(), r.ReadString(), r.ReadInt64()) { LogAppendTime = r.ReadInt64() };
            var count = r.ReadInt32();
            if (count == 0) return result;
            var errors = new RecordError[count];
            for (var i = 0; i < count; i++) errors[i] = new RecordError(r.ReadInt32(), r.ReadString());
            return result with { RecordErrors = errors };
        })
        .AddLegacy("AR", (ref WireReader r, byte[] _) => new AppendResult(r.ReadString()!, r.ReadInt32(), (ErrorCode)r.ReadInt16(), r.ReadString(), r.ReadInt64()))
        .Add<ReplicaFetch>("RF", (w, f) =>
        {
            w.WriteString(f.Topic);
            w.WriteInt32(f.Partition);
            w.WriteString(f.TopicId);
            w.WriteInt32(f.ReplicaId);
            w.WriteInt64(f.FetchId);
            w.WriteInt64(f.LogEndOffset);
            w.WriteInt32(f.LastFetchedEpoch);
            w.WriteInt32(f.MaxBytes);
            w.WriteInt32(f.MaxWaitMs);
        }, (ref WireReader r, byte[] _) => new ReplicaFetch(r.ReadString()!, r.ReadInt32(), r.ReadString()!, r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32()))
        .Add<LeaderElected>("LEL", (w, l) =>
        {
            w.WriteString(l.Topic);
            w.WriteInt32(l.Partition);
            w.WriteInt32(l.LeaderEpoch);
            w.WriteInt32(l.Leader);
        }, (ref WireReader r, byte[] _) => new LeaderElected(r.ReadString()!, r.ReadInt32(), r.ReadInt32(), r.ReadInt32()))
        .Add<ReplicaFetchResult>("RFR", (w, f) =>
        {
            w.WriteString(f.Topic);
            w.WriteInt32(f.Partition);
            w.WriteInt64(f.FetchId);
            w.WriteInt16((short)f.Error);
            w.WriteString(f.ErrorMessage);
            w.WriteInt32(f.LeaderEpoch);
            w.WriteInt32(f.Leader);
            w.WriteInt64(f.HighWatermark);
            w.WriteInt64(f.LogStartOffset);
            w.WriteInt32(f.DivergingEpoch);
            w.WriteInt64(f.DivergingEndOffset);
            w.WriteBytes(f.Records.Span);
        }, (ref WireReader r, byte[] _) => new ReplicaFetchResult(r.ReadString()!, r.ReadInt32(), r.ReadInt64(), (ErrorCode)r.ReadInt16(), r.ReadString(),
            r.ReadInt32(), r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt64(), r.ReadBytesAsMemory()),
            f => StringSize(f.Topic) + 4 + 8 + 2 + StringSize(f.ErrorMessage) + 4 + 4 + 8 + 8 + 4 + 8 + 4 + f.Records.Length)
        .Add<GetPartitionInfo>("GPI", (w, g) =>
        {
            w.WriteString(g.Topic);
            w.WriteInt32(g.Partition);
        }, (ref WireReader r, byte[] _) => new GetPartitionInfo(r.ReadString()!, r.ReadInt32()))
        .Add<PartitionInfo>("PI@2", (w, i) =>
        {
            w.WriteString(i.Topic);
            w.WriteInt32(i.Partition);
            w.WriteInt16((short)i.Error);
            w.WriteString(i.ErrorMessage);
            w.WriteInt64(i.LogStartOffset);
            w.WriteInt64(i.HighWatermark);
            w.WriteInt64(i.LogEndOffset);
            w.WriteInt32(i.LeaderEpoch);
            w.WriteInt32(i.Leader);
            w.WriteString(i.Address);
        }, (ref WireReader r, byte[] _) => new PartitionInfo(r.ReadString()!, r.ReadInt32(), (ErrorCode)r.ReadInt16(), r.ReadString(),
            r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt32(), r.ReadString()!))
        .Add<GetAllTopics>("GT", (_, _) => { }, (ref WireReader _, byte[] _) => GetAllTopics.Instance)
        .Add<TopicsSnapshot>("TS@3", (w, t) =>
        {
            w.WriteCount(t.Topics.Count);
            foreach (var topic in t.Topics) WriteTopic(w, topic);
        }, (ref WireReader r, byte[] _) =>
        {
            var n = r.ReadCount();
            var topics = new List<TopicDescriptor>(n);
            for (var i = 0; i < n; i++) topics.Add(ReadTopic(ref r, withReassignments: true));
            return new TopicsSnapshot(topics);
        })
        .AddLegacy("TS@2", (ref WireReader r, byte[] _) =>
        {
            var n = r.ReadCount();
            var topics = new List<TopicDescriptor>(n);
            for (var i = 0; i < n; i++) topics.Add(ReadTopic(ref r, withReassignments: false));
            return new TopicsSnapshot(topics);
        })
        .Add<GetHostedPartitions>("GHP", (_, _) => { }, (ref WireReader _, byte[] _) => GetHostedPartitions.Instance)
        .Add<HostedPartitionsReply>("HP", (w, h) =>
        {
            w.WriteCount(h.Partitions.Count);
            foreach (var p in h.Partitions)
            {
                w.WriteString(p.Topic);
                w.WriteInt32(p.Partition);
                w.WriteString(p.Address);
            }
        }, (ref WireReader r, byte[] _) =>
        {
            var n = r.ReadCount();
            var list = new List<HostedPartition>(n);
            for (var i = 0; i < n; i++) list.Add(new HostedPartition(r.ReadString()!, r.ReadInt32(), r.ReadString()!));
            return new HostedPartitionsReply(list);
        });

    /// <summary>
    /// <paramref name="value"/> as its manifest followed by its fields: how the metadata quorum stores one entry of
    /// the topic table, partition states or producer-id blocks (a one-entry table), readable by <see cref="DecodeTagged"/>.
    /// </summary>
    internal static byte[] EncodeTagged(object value) => Codecs.ToTagged(value, "server");

    internal static object DecodeTagged(byte[] bytes) => Codecs.FromTagged(bytes, "server");

    public override int Identifier => 4101;

    public override string Manifest(object o) => o is BatchAppended
        ? BatchAppendedManifest
        : Codecs.Manifest(o) ?? GroupEventCodec.Manifest(o) ?? throw new ArgumentException($"ServerSerializer cannot serialize {o.GetType()}");

    public override byte[] ToBinary(object obj)
    {
        if (obj is BatchAppended appended) return appended.Batch;
        if (Codecs.ToBinary(obj) is { } bytes) return bytes;
        using var w = new WireWriter();
        if (!GroupEventCodec.TryWrite(w, obj)) throw new ArgumentException($"ServerSerializer cannot serialize {obj.GetType()}");
        return w.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (manifest == BatchAppendedManifest) return new BatchAppended(bytes);
        if (Codecs.TryRead(bytes, manifest, out var message)) return message;
        var r = new WireReader(bytes);
        return GroupEventCodec.TryRead(ref r, manifest)
            ?? throw new System.Runtime.Serialization.SerializationException($"ServerSerializer does not know manifest '{manifest}' (written by a newer broker version?)");
    }

    private static int StringSize(string? s) => 4 + (s is null ? 0 : Encoding.UTF8.GetByteCount(s));

    private static void WriteTopic(WireWriter w, TopicDescriptor t)
    {
        w.WriteString(t.Name);
        w.WriteString(t.TopicId);
        w.WriteInt32(t.Partitions);
        w.WriteInt16(t.ReplicationFactor);
        w.WriteStringMap(t.Configs);
        w.WriteCount(t.Assignments.Count);
        foreach (var replicas in t.Assignments) w.WriteInt32List(replicas);
        w.WriteCount(t.Reassigning.Count);
        foreach (var (partition, move) in t.Reassigning)
        {
            w.WriteInt32(partition);
            w.WriteInt32List(move.Target);
            w.WriteInt32List(move.Adding);
        }
    }

    private static TopicDescriptor ReadTopic(ref WireReader r, bool withReassignments)
    {
        var name = r.ReadString()!;
        var id = r.ReadString()!;
        var partitions = r.ReadInt32();
        var rf = r.ReadInt16();
        var configs = r.ReadStringMap();
        var n = r.ReadCount(4);
        var assignments = new ImmutableArray<int>[n];
        for (var i = 0; i < n; i++) assignments[i] = ImmutableArray.Create(r.ReadInt32List());
        var descriptor = new TopicDescriptor(name, id, partitions, rf, configs, assignments);
        if (!withReassignments) return descriptor;
        var moving = r.ReadCount(12);
        if (moving == 0) return descriptor;
        var reassigning = ImmutableDictionary.CreateBuilder<int, PartitionMove>();
        for (var i = 0; i < moving; i++) reassigning[r.ReadInt32()] = new PartitionMove(ImmutableArray.Create(r.ReadInt32List()), ImmutableArray.Create(r.ReadInt32List()));
        return descriptor with { Reassigning = reassigning.ToImmutable() };
    }

    private static void WriteTopicTable(WireWriter w, TopicTable table)
    {
        w.WriteCount(table.Entries.Count);
        foreach (var (name, entry) in table.Entries)
        {
            w.WriteString(name);
            w.WriteInt64(entry.Version);
            w.WriteBool(entry.Deleted);
            WriteTopic(w, entry.Topic);
        }
    }

    private static TopicTable ReadTopicTable(ref WireReader r, bool withReassignments)
    {
        var n = r.ReadCount();
        var builder = ImmutableSortedDictionary.CreateBuilder<string, TopicEntry>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            var name = r.ReadString()!;
            var version = r.ReadInt64();
            var deleted = r.ReadBool();
            builder[name] = new TopicEntry(ReadTopic(ref r, withReassignments), version, deleted);
        }
        return new TopicTable(builder.ToImmutable());
    }

    private static void WriteAclTable(WireWriter w, AclTable table)
    {
        w.WriteCount(table.Entries.Count);
        foreach (var (key, entry) in table.Entries)
        {
            w.WriteString(key);
            w.WriteInt64(entry.Version);
            w.WriteBool(entry.Deleted);
            var acl = entry.Acl;
            w.WriteByte((byte)acl.ResourceType);
            w.WriteString(acl.ResourceName);
            w.WriteByte((byte)acl.Pattern);
            w.WriteString(acl.Principal);
            w.WriteString(acl.Host);
            w.WriteByte((byte)acl.Operation);
            w.WriteByte((byte)acl.Permission);
        }
    }

    private static AclTable ReadAclTable(ref WireReader r)
    {
        var n = r.ReadCount();
        var builder = ImmutableSortedDictionary.CreateBuilder<string, AclEntry>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            var key = r.ReadString()!;
            var (version, deleted) = (r.ReadInt64(), r.ReadBool());
            var acl = new AclBinding(ReadEnum<ResourceType>(ref r), r.ReadString()!, ReadEnum<PatternType>(ref r), r.ReadString()!, r.ReadString()!,
                ReadEnum<AclOperation>(ref r), ReadEnum<AclPermissionType>(ref r));
            builder[key] = new AclEntry(acl, version, deleted);
        }
        return new AclTable(builder.ToImmutable());
    }

    private static void WriteUserTable(WireWriter w, UserTable table)
    {
        w.WriteCount(table.Entries.Count);
        foreach (var (key, user) in table.Entries)
        {
            w.WriteString(key);
            w.WriteInt64(user.Version);
            w.WriteBool(user.Deleted);
            w.WriteCount(user.Credentials.Length);
            foreach (var c in user.Credentials)
            {
                w.WriteByte((byte)c.Mechanism);
                w.WriteBytes(c.Salt);
                w.WriteInt32(c.Iterations);
                w.WriteBytes(c.StoredKey);
                w.WriteBytes(c.ServerKey);
            }
        }
    }

    private static UserTable ReadUserTable(ref WireReader r)
    {
        var n = r.ReadCount();
        var builder = ImmutableSortedDictionary.CreateBuilder<string, UserEntry>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            var name = r.ReadString()!;
            var (version, deleted) = (r.ReadInt64(), r.ReadBool());
            var count = r.ReadCount();
            var credentials = ImmutableArray.CreateBuilder<ScramCredential>(count);
            for (var j = 0; j < count; j++)
            {
                var mechanism = ReadEnum<ScramMechanism>(ref r);
                var salt = r.ReadBytesAsMemory().ToArray();
                var iterations = r.ReadInt32();
                credentials.Add(new ScramCredential(mechanism, salt, iterations, r.ReadBytesAsMemory().ToArray(), r.ReadBytesAsMemory().ToArray()));
            }
            builder[name] = new UserEntry(name, credentials.MoveToImmutable(), version, deleted);
        }
        return new UserTable(builder.ToImmutable());
    }

    /// <summary>An enum stored as one byte; a value this version does not define is a format error, not a new member.</summary>
    private static T ReadEnum<T>(ref WireReader r) where T : struct, Enum
    {
        var value = r.ReadByte();
        var e = (T)Enum.ToObject(typeof(T), value);
        return Enum.IsDefined(e) ? e : throw new WireFormatException($"{typeof(T).Name} {value} is not known to this version");
    }

    private static void WritePartitionStates(WireWriter w, PartitionStateTable table)
    {
        w.WriteCount(table.Entries.Count);
        foreach (var (key, s) in table.Entries)
        {
            w.WriteString(key);
            w.WriteInt32(s.LeaderEpoch);
            w.WriteInt32(s.PartitionEpoch);
            w.WriteInt32(s.Leader);
            w.WriteInt32List(s.Isr);
        }
    }

    private static PartitionStateTable ReadPartitionStates(ref WireReader r)
    {
        var n = r.ReadCount();
        var builder = ImmutableSortedDictionary.CreateBuilder<string, PartitionState>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
            builder[r.ReadString()!] = new PartitionState(r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), ImmutableArray.Create(r.ReadInt32List()));
        return new PartitionStateTable(builder.ToImmutable());
    }

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
        w.WriteInt64(s.HighWatermark);
        w.WriteCount(s.Epochs.Length);
        for (var i = 0; i < s.Epochs.Length; i++)
        {
            w.WriteInt32(s.Epochs[i]);
            w.WriteInt64(s.EpochStartOffsets[i]);
        }
        w.WriteCount(s.Producers.Length);
        foreach (var p in s.Producers)
        {
            w.WriteInt64(p.ProducerId);
            w.WriteInt16(p.Epoch);
            w.WriteInt64(p.LastTimestamp);
            w.WriteCount(p.Batches.Length);
            foreach (var b in p.Batches)
            {
                w.WriteInt32(b.FirstSeq);
                w.WriteInt32(b.LastSeq);
                w.WriteInt64(b.BaseOffset);
                w.WriteInt64(b.LastOffset);
            }
        }
    }

    /// <summary>Version 1 has no epochs (written before replication), 2 adds them, 3 adds idempotent producers.</summary>
    private static PartitionSnapshot ReadSnapshot(ref WireReader r, int version)
    {
        // A snapshot saved before its replica journaled PartitionCreated has no topic id ("", or null from older writers):
        // the replica then starts as one that has not checked its incarnation yet, instead of failing its recovery.
        var topicId = r.ReadString() ?? "";
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
        var snapshot = new PartitionSnapshot(topicId, logStart, logEnd, baseOffsets, counts, seqs, timestamps, sizes)
        {
            // Written before replication: a single copy, so everything it held was committed.
            HighWatermark = logEnd,
        };
        if (version < 2) return snapshot;
        var hw = r.ReadInt64();
        var e = r.ReadCount(12);
        var epochs = new int[e];
        var starts = new long[e];
        for (var i = 0; i < e; i++)
        {
            epochs[i] = r.ReadInt32();
            starts[i] = r.ReadInt64();
        }
        snapshot = snapshot with { HighWatermark = hw, Epochs = epochs, EpochStartOffsets = starts };
        if (version < 3) return snapshot;
        var producers = new ProducerState[r.ReadCount(8 + 2 + 8 + 4)];
        for (var i = 0; i < producers.Length; i++)
        {
            var (id, epoch, lastTimestamp) = (r.ReadInt64(), r.ReadInt16(), r.ReadInt64());
            var batches = new ProducerBatch[r.ReadCount(4 + 4 + 8 + 8)];
            for (var b = 0; b < batches.Length; b++) batches[b] = new ProducerBatch(r.ReadInt32(), r.ReadInt32(), r.ReadInt64(), r.ReadInt64());
            producers[i] = new ProducerState(id, epoch, lastTimestamp, batches);
        }
        return snapshot with { Producers = producers };
    }
}
