using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Server.Monitoring;

/// <summary>
/// Builds a <see cref="ClusterSnapshot"/> from a Metadata answer for every topic and the groups' DescribeGroup
/// answers. Pure, so the node (web page, metrics) and the CLI (--watch) build the same picture from the same replies.
/// </summary>
public static class SnapshotBuilder
{
    public static ClusterSnapshot Build(MetadataResponse metadata, IReadOnlyList<DescribeGroupResponse> groups, DateTimeOffset at)
    {
        var nodes = new List<NodeView>();
        var known = new HashSet<int>();
        foreach (var b in metadata.Brokers)
        {
            if (b.NodeId <= 0 || !known.Add(b.NodeId)) continue;
            nodes.Add(new NodeView(b.NodeId, $"{b.Host}:{b.Port}", b.Roles, b.Status));
        }

        var partitions = new List<PartitionView>();
        var logEnds = new Dictionary<(string, int), long>();
        foreach (var t in metadata.Topics)
        {
            if (t.Error != ErrorCode.None) continue;
            foreach (var p in t.Partitions)
            {
                partitions.Add(new PartitionView(t.Name, p.Partition, p.LeaderId, p.LeaderEpoch, p.Replicas, p.Isr, p.OfflineReplicas,
                    p.HighWatermark, p.LogEndOffset, p.Error == ErrorCode.None ? null : $"{p.Error}: {p.ErrorMessage}"));
                logEnds[(t.Name, p.Partition)] = p.LogEndOffset;
                // A replica on a node that is no member at all (downed and removed, or never started) is a Down node.
                foreach (var r in p.Replicas)
                    if (known.Add(r)) nodes.Add(new NodeView(r, "", [], NodeView.Down));
            }
        }
        nodes.Sort((a, b) => a.Id.CompareTo(b.Id));
        partitions.Sort((a, b) => a.Topic != b.Topic ? string.CompareOrdinal(a.Topic, b.Topic) : a.Partition.CompareTo(b.Partition));

        var groupViews = new List<GroupView>();
        foreach (var g in groups)
        {
            if (g.Error != ErrorCode.None) continue;
            groupViews.Add(Group(g, logEnds));
        }
        groupViews.Sort((a, b) => string.CompareOrdinal(a.GroupId, b.GroupId));
        return new ClusterSnapshot(at, nodes, partitions, groupViews);
    }

    /// <summary>Every partition the group owns or has committed, with its lag against the log end (as `groups describe` shows it).</summary>
    public static GroupView Group(DescribeGroupResponse g, IReadOnlyDictionary<(string, int), long> logEnds)
    {
        var owners = new Dictionary<(string, int), string>();
        var members = new List<MemberView>(g.Members.Count);
        foreach (var m in g.Members)
        {
            var assigned = new List<string>(m.Assignment.Count);
            foreach (var tp in m.Assignment)
            {
                owners[(tp.Topic, tp.Partition)] = m.MemberId;
                assigned.Add($"{tp.Topic}/{tp.Partition}");
            }
            members.Add(new MemberView(m.MemberId, m.ClientId, assigned));
        }
        var committed = new Dictionary<(string, int), long>();
        foreach (var o in g.Offsets) committed[(o.Topic, o.Partition)] = o.Offset;

        var keys = new SortedSet<(string Topic, int Partition)>(owners.Keys.Concat(committed.Keys));
        var rows = new List<GroupPartitionView>(keys.Count);
        foreach (var key in keys)
        {
            long? offset = committed.TryGetValue(key, out var c) ? c : null;
            var logEnd = logEnds.TryGetValue(key, out var end) ? end : -1;
            long? lag = offset is { } o && o >= 0 && logEnd >= 0 ? Math.Max(0, logEnd - o) : null;
            rows.Add(new GroupPartitionView(key.Topic, key.Partition, offset, logEnd, lag, owners.GetValueOrDefault(key)));
        }
        return new GroupView(g.GroupId, g.State, g.Protocol, g.GenerationId, members, rows);
    }
}
