using Broker.Protocol.Messages;

namespace Broker.Protocol.Serialization;

/// <summary>Writes the consumer-group messages, fields in declaration order (read by <see cref="GroupMessageReader"/>).</summary>
internal static class GroupMessageWriter
{
    /// <summary>False if <paramref name="o"/> is not a group message.</summary>
    public static bool TryWrite(WireWriter w, object o)
    {
        switch (o)
        {
            case JoinGroupRequest j:
                w.WriteString(j.GroupId);
                w.WriteString(j.MemberId);
                w.WriteString(j.ClientId);
                w.WriteInt32(j.SessionTimeoutMs);
                w.WriteInt32(j.RebalanceTimeoutMs);
                w.WriteString(j.ProtocolType);
                var protocols = j.Protocols ?? [];
                w.WriteCount(protocols.Count);
                foreach (var p in protocols)
                {
                    w.WriteString(p.Name);
                    w.WriteBytes(p.Metadata ?? []);
                }
                return true;
            case JoinGroupResponse j:
                WriteError(w, j.Error, j.ErrorMessage);
                w.WriteInt32(j.GenerationId);
                w.WriteString(j.ProtocolName);
                w.WriteString(j.LeaderId);
                w.WriteString(j.MemberId);
                var members = j.Members ?? [];
                w.WriteCount(members.Count);
                foreach (var m in members)
                {
                    w.WriteString(m.MemberId);
                    w.WriteBytes(m.Metadata ?? []);
                }
                return true;
            case SyncGroupRequest s:
                w.WriteString(s.GroupId);
                w.WriteInt32(s.GenerationId);
                w.WriteString(s.MemberId);
                var assignments = s.Assignments ?? [];
                w.WriteCount(assignments.Count);
                foreach (var a in assignments)
                {
                    w.WriteString(a.MemberId);
                    w.WriteBytes(a.Assignment ?? []);
                }
                return true;
            case SyncGroupResponse s:
                WriteError(w, s.Error, s.ErrorMessage);
                w.WriteBytes(s.Assignment ?? []);
                return true;
            case HeartbeatRequest h:
                w.WriteString(h.GroupId);
                w.WriteInt32(h.GenerationId);
                w.WriteString(h.MemberId);
                return true;
            case HeartbeatResponse h:
                WriteError(w, h.Error, h.ErrorMessage);
                return true;
            case LeaveGroupRequest l:
                w.WriteString(l.GroupId);
                w.WriteString(l.MemberId);
                return true;
            case LeaveGroupResponse l:
                WriteError(w, l.Error, l.ErrorMessage);
                return true;
            case OffsetCommitRequest c:
                w.WriteString(c.GroupId);
                w.WriteInt32(c.GenerationId);
                w.WriteString(c.MemberId);
                var offsets = c.Offsets ?? [];
                w.WriteCount(offsets.Count);
                foreach (var o2 in offsets)
                {
                    w.WriteString(o2.Topic);
                    w.WriteInt32(o2.Partition);
                    w.WriteInt64(o2.Offset);
                    w.WriteString(o2.Metadata);
                }
                if (c.KeepsNegativeOffsets) w.WriteBool(true); // manifest OC2; native commits keep OC's bytes
                return true;
            case OffsetCommitResponse c:
                WriteError(w, c.Error, c.ErrorMessage);
                var results = c.Results ?? [];
                w.WriteCount(results.Count);
                foreach (var r in results)
                {
                    w.WriteString(r.Topic);
                    w.WriteInt32(r.Partition);
                    WriteError(w, r.Error, r.ErrorMessage);
                }
                return true;
            case OffsetFetchRequest f:
                w.WriteString(f.GroupId);
                if (f.Partitions is null)
                {
                    w.WriteInt32(-1);
                }
                else
                {
                    WritePartitions(w, f.Partitions);
                }
                return true;
            case OffsetFetchResponse f:
                WriteError(w, f.Error, f.ErrorMessage);
                WriteCommitted(w, f.Offsets);
                return true;
            case DescribeGroupRequest d:
                w.WriteString(d.GroupId);
                return true;
            case DeleteGroupRequest d:
                w.WriteString(d.GroupId);
                return true;
            case DeleteGroupResponse d:
                WriteError(w, d.Error, d.ErrorMessage);
                w.WriteString(d.GroupId);
                return true;
            case DeleteGroupOffsetsRequest d:
                w.WriteString(d.GroupId);
                WritePartitions(w, d.Partitions);
                return true;
            case DeleteGroupOffsetsResponse d:
                WriteError(w, d.Error, d.ErrorMessage);
                var deletions = d.Results ?? [];
                w.WriteCount(deletions.Count);
                foreach (var x in deletions)
                {
                    w.WriteString(x.Topic);
                    w.WriteInt32(x.Partition);
                    w.WriteInt16((short)x.Error);
                }
                return true;
            case DescribeGroupResponse d:
                WriteError(w, d.Error, d.ErrorMessage);
                w.WriteString(d.GroupId);
                w.WriteString(d.State);
                w.WriteString(d.ProtocolType);
                w.WriteString(d.Protocol);
                w.WriteInt32(d.GenerationId);
                var described = d.Members ?? [];
                w.WriteCount(described.Count);
                foreach (var m in described)
                {
                    w.WriteString(m.MemberId);
                    w.WriteString(m.ClientId);
                    WritePartitions(w, m.Assignment);
                }
                WriteCommitted(w, d.Offsets);
                w.WriteByte((byte)d.Type);
                return true;
            case ListGroupsRequest:
                return true;
            case ConsumerGroupHeartbeatRequest h:
                w.WriteString(h.GroupId);
                w.WriteString(h.MemberId);
                w.WriteInt32(h.MemberEpoch);
                w.WriteString(h.ClientId);
                w.WriteInt32(h.RebalanceTimeoutMs);
                WriteNullableNames(w, h.SubscribedTopics);
                w.WriteString(h.ServerAssignor);
                WriteNullablePartitions(w, h.OwnedPartitions);
                return true;
            case ConsumerGroupHeartbeatResponse h:
                WriteError(w, h.Error, h.ErrorMessage);
                w.WriteString(h.MemberId);
                w.WriteInt32(h.MemberEpoch);
                w.WriteInt32(h.HeartbeatIntervalMs);
                WriteNullablePartitions(w, h.Assignment);
                return true;
            case DescribeConsumerGroupRequest d:
                w.WriteString(d.GroupId);
                return true;
            case DescribeConsumerGroupResponse d:
                WriteError(w, d.Error, d.ErrorMessage);
                w.WriteString(d.GroupId);
                w.WriteString(d.State);
                w.WriteInt32(d.GroupEpoch);
                w.WriteInt32(d.AssignmentEpoch);
                w.WriteString(d.Assignor);
                var consumers = d.Members ?? [];
                w.WriteCount(consumers.Count);
                foreach (var m in consumers)
                {
                    w.WriteString(m.MemberId);
                    w.WriteString(m.ClientId);
                    w.WriteInt32(m.MemberEpoch);
                    WriteNullableNames(w, m.SubscribedTopics ?? []);
                    WritePartitions(w, m.Assignment);
                    WritePartitions(w, m.TargetAssignment);
                }
                return true;
            case ListGroupsResponse l:
                WriteError(w, l.Error, l.ErrorMessage);
                var groups = l.Groups ?? [];
                w.WriteCount(groups.Count);
                foreach (var g in groups)
                {
                    w.WriteString(g.GroupId);
                    w.WriteString(g.State);
                    w.WriteString(g.ProtocolType);
                    w.WriteInt32(g.Members);
                    w.WriteByte((byte)g.Type);
                }
                return true;
            default:
                return false;
        }
    }

    private static void WriteError(WireWriter w, ErrorCode error, string? message)
    {
        w.WriteInt16((short)error);
        w.WriteString(message);
    }

    internal static void WritePartitions(WireWriter w, IReadOnlyList<TopicPartition>? partitions)
    {
        partitions ??= [];
        w.WriteCount(partitions.Count);
        foreach (var p in partitions)
        {
            w.WriteString(p.Topic);
            w.WriteInt32(p.Partition);
        }
    }

    /// <summary>Null is count -1 (Kafka's "unchanged since the last heartbeat").</summary>
    private static void WriteNullablePartitions(WireWriter w, IReadOnlyList<TopicPartition>? partitions)
    {
        if (partitions is null) w.WriteInt32(-1);
        else WritePartitions(w, partitions);
    }

    private static void WriteNullableNames(WireWriter w, IReadOnlyList<string>? names)
    {
        if (names is null)
        {
            w.WriteInt32(-1);
            return;
        }
        w.WriteCount(names.Count);
        foreach (var n in names) w.WriteString(n);
    }

    private static void WriteCommitted(WireWriter w, IReadOnlyList<CommittedOffset>? offsets)
    {
        offsets ??= [];
        w.WriteCount(offsets.Count);
        foreach (var c in offsets)
        {
            w.WriteString(c.Topic);
            w.WriteInt32(c.Partition);
            w.WriteInt64(c.Offset);
            w.WriteString(c.Metadata);
        }
    }
}
