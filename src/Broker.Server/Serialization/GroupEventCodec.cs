using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Serialization;
using Broker.Server.Groups;

namespace Broker.Server.Serialization;

/// <summary>The binary layout of a group coordinator's journal events and snapshot (used by <see cref="ServerSerializer"/>).</summary>
internal static class GroupEventCodec
{
    public const string GenerationStartedManifest = "GG";
    public const string AssignmentsSyncedManifest = "GA";
    public const string OffsetsCommittedManifest = "GO";
    public const string GroupSnapshotManifest = "GS";
    public const string GroupDeletedManifest = "GD";
    public const string OffsetsDeletedManifest = "GOD";
    public const string ConsumerGroupUpdatedManifest = "GC";

    public static string? Manifest(object o) => o switch
    {
        GenerationStarted => GenerationStartedManifest,
        AssignmentsSynced => AssignmentsSyncedManifest,
        OffsetsCommitted => OffsetsCommittedManifest,
        GroupSnapshot => GroupSnapshotManifest,
        GroupDeleted => GroupDeletedManifest,
        OffsetsDeleted => OffsetsDeletedManifest,
        ConsumerGroupUpdated => ConsumerGroupUpdatedManifest,
        _ => null,
    };

    public static bool TryWrite(WireWriter w, object o)
    {
        switch (o)
        {
            case GenerationStarted g:
                WriteGeneration(w, g);
                return true;
            case AssignmentsSynced s:
                w.WriteInt32(s.GenerationId);
                w.WriteCount(s.Assignments.Count);
                foreach (var a in s.Assignments)
                {
                    w.WriteString(a.MemberId);
                    w.WriteBytes(a.Assignment);
                }
                return true;
            case OffsetsCommitted c:
                WriteOffsets(w, c.Offsets);
                return true;
            case GroupSnapshot s:
                WriteGeneration(w, s.Generation);
                WriteOffsets(w, s.Offsets);
                return true;
            case GroupDeleted:
                return true;
            case OffsetsDeleted d:
                w.WriteCount(d.Partitions.Count);
                foreach (var p in d.Partitions)
                {
                    w.WriteString(p.Topic);
                    w.WriteInt32(p.Partition);
                }
                return true;
            case ConsumerGroupUpdated c:
                WriteConsumerGroup(w, c);
                return true;
            default:
                return false;
        }
    }

    public static object? TryRead(ref WireReader r, string manifest)
    {
        switch (manifest)
        {
            case GenerationStartedManifest:
                return ReadGeneration(ref r);
            case AssignmentsSyncedManifest:
            {
                var generation = r.ReadInt32();
                var n = r.ReadCount();
                var assignments = new SyncGroupAssignment[n];
                for (var i = 0; i < n; i++) assignments[i] = new SyncGroupAssignment(r.ReadString()!, r.ReadBytesAsMemory().ToArray());
                return new AssignmentsSynced(generation, assignments);
            }
            case OffsetsCommittedManifest:
                return new OffsetsCommitted(ReadOffsets(ref r));
            case GroupSnapshotManifest:
                return new GroupSnapshot(ReadGeneration(ref r), ReadOffsets(ref r));
            case GroupDeletedManifest:
                return GroupDeleted.Instance;
            case OffsetsDeletedManifest:
            {
                var n = r.ReadCount();
                var partitions = new TopicPartition[n];
                for (var i = 0; i < n; i++) partitions[i] = new TopicPartition(r.ReadString()!, r.ReadInt32());
                return new OffsetsDeleted(partitions);
            }
            case ConsumerGroupUpdatedManifest:
                return ReadConsumerGroup(ref r);
            default:
                return null;
        }
    }

    private static void WriteConsumerGroup(WireWriter w, ConsumerGroupUpdated c)
    {
        w.WriteInt32(c.GroupEpoch);
        w.WriteInt32(c.AssignmentEpoch);
        w.WriteString(c.Assignor);
        w.WriteCount(c.Members.Count);
        foreach (var m in c.Members)
        {
            w.WriteString(m.MemberId);
            w.WriteString(m.ClientId);
            w.WriteInt32(m.RebalanceTimeoutMs);
            w.WriteString(m.ServerAssignor);
            w.WriteCount(m.Topics.Count);
            foreach (var t in m.Topics) w.WriteString(t);
            w.WriteInt32(m.MemberEpoch);
            w.WriteInt32(m.PreviousMemberEpoch);
            WritePartitions(w, m.Assigned);
            WritePartitions(w, m.PendingRevocation);
            WritePartitions(w, m.Target);
        }
    }

    private static ConsumerGroupUpdated ReadConsumerGroup(ref WireReader r)
    {
        var groupEpoch = r.ReadInt32();
        var assignmentEpoch = r.ReadInt32();
        var assignor = r.ReadString() ?? "";
        var n = r.ReadCount();
        var members = new ConsumerMemberState[n];
        for (var i = 0; i < n; i++)
        {
            var memberId = r.ReadString()!;
            var clientId = r.ReadString() ?? "";
            var rebalanceTimeout = r.ReadInt32();
            var serverAssignor = r.ReadString() ?? "";
            var topicCount = r.ReadCount();
            var topics = new string[topicCount];
            for (var t = 0; t < topicCount; t++) topics[t] = r.ReadString()!;
            var memberEpoch = r.ReadInt32();
            var previousEpoch = r.ReadInt32();
            members[i] = new ConsumerMemberState(memberId, clientId, rebalanceTimeout, serverAssignor, topics, memberEpoch, previousEpoch,
                ReadPartitions(ref r), ReadPartitions(ref r), ReadPartitions(ref r));
        }
        return new ConsumerGroupUpdated(groupEpoch, assignmentEpoch, assignor, members);
    }

    private static void WritePartitions(WireWriter w, IReadOnlyList<TopicPartition> partitions)
    {
        w.WriteCount(partitions.Count);
        foreach (var p in partitions)
        {
            w.WriteString(p.Topic);
            w.WriteInt32(p.Partition);
        }
    }

    private static TopicPartition[] ReadPartitions(ref WireReader r)
    {
        var n = r.ReadCount();
        var partitions = new TopicPartition[n];
        for (var i = 0; i < n; i++) partitions[i] = new TopicPartition(r.ReadString()!, r.ReadInt32());
        return partitions;
    }

    private static void WriteGeneration(WireWriter w, GenerationStarted g)
    {
        w.WriteInt32(g.GenerationId);
        w.WriteString(g.ProtocolType);
        w.WriteString(g.Protocol);
        w.WriteString(g.LeaderId);
        w.WriteCount(g.Members.Count);
        foreach (var m in g.Members)
        {
            w.WriteString(m.MemberId);
            w.WriteString(m.ClientId);
            w.WriteInt32(m.SessionTimeoutMs);
            w.WriteInt32(m.RebalanceTimeoutMs);
            w.WriteBytes(m.Metadata);
            w.WriteBytes(m.Assignment);
        }
    }

    private static GenerationStarted ReadGeneration(ref WireReader r)
    {
        var generation = r.ReadInt32();
        var protocolType = r.ReadString() ?? "";
        var protocol = r.ReadString() ?? "";
        var leader = r.ReadString() ?? "";
        var n = r.ReadCount();
        var members = new PersistedMember[n];
        for (var i = 0; i < n; i++)
        {
            members[i] = new PersistedMember(r.ReadString()!, r.ReadString() ?? "", r.ReadInt32(), r.ReadInt32(),
                r.ReadBytesAsMemory().ToArray(), r.ReadBytesAsMemory().ToArray());
        }
        return new GenerationStarted(generation, protocolType, protocol, leader, members);
    }

    private static void WriteOffsets(WireWriter w, IReadOnlyList<CommittedOffset> offsets)
    {
        w.WriteCount(offsets.Count);
        foreach (var o in offsets)
        {
            w.WriteString(o.Topic);
            w.WriteInt32(o.Partition);
            w.WriteInt64(o.Offset);
            w.WriteString(o.Metadata);
        }
    }

    private static CommittedOffset[] ReadOffsets(ref WireReader r)
    {
        var n = r.ReadCount();
        var offsets = new CommittedOffset[n];
        for (var i = 0; i < n; i++) offsets[i] = new CommittedOffset(r.ReadString()!, r.ReadInt32(), r.ReadInt64(), r.ReadString());
        return offsets;
    }
}
