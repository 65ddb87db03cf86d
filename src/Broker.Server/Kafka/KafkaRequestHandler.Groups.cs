using Broker.Kafka;
using Broker.Protocol;
using Broker.Protocol.Messages;
using K = Broker.Kafka.Messages;

namespace Broker.Server.Kafka;

// FindCoordinator, offsets and group membership: the group coordinators' side of the listener.
internal sealed partial class KafkaRequestHandler
{
    // ---- Group coordinator and committed offsets

    /// <summary>
    /// Any node is every group's coordinator as far as a client can tell: its gateway forwards group requests to
    /// the group's sharded coordinator wherever that runs. So the answer is always this node.
    /// </summary>
    private K.FindCoordinatorResponse FindCoordinator(K.FindCoordinatorRequest request)
    {
        if (request.KeyType != 0)
            return new K.FindCoordinatorResponse { ErrorCode = KafkaErrors.CoordinatorNotAvailable, ErrorMessage = "transactions are not supported: no transaction coordinator", NodeId = -1, Host = "", Port = -1 };
        return new K.FindCoordinatorResponse { ErrorCode = KafkaErrors.None, NodeId = _nodeId, Host = _advertisedHost, Port = _advertisedPort };
    }

    private async Task<IKafkaMessage?> OffsetCommitAsync(K.OffsetCommitRequest request)
    {
        var offsets = new List<OffsetCommitPartition>();
        foreach (var t in request.Topics)
        {
            foreach (var p in t.Partitions)
                offsets.Add(new OffsetCommitPartition(t.Name, p.PartitionIndex, p.CommittedOffset, p.CommittedMetadata));
        }
        // Kafka stores any offset; a negative one is the client's marker (kafkajs resets a group with -2/-1).
        var commit = new OffsetCommitRequest(request.GroupId, request.GenerationIdOrMemberEpoch, request.MemberId, offsets) { KeepsNegativeOffsets = true };
        var reply = await AskAsync(commit, AskTimeout).ConfigureAwait(false);

        var byPartition = new Dictionary<(string, int), ErrorCode>();
        if (reply is OffsetCommitResponse r && r.Error == ErrorCode.None)
            foreach (var result in r.Results) byPartition[(result.Topic, result.Partition)] = result.Error;
        var groupError = reply.Error;
        var topics = new List<K.OffsetCommitResponse.OffsetCommitResponseTopic>(request.Topics.Count);
        foreach (var t in request.Topics)
        {
            var partitions = new List<K.OffsetCommitResponse.OffsetCommitResponsePartition>(t.Partitions.Count);
            foreach (var p in t.Partitions)
            {
                var error = groupError != ErrorCode.None ? groupError : byPartition.GetValueOrDefault((t.Name, p.PartitionIndex), ErrorCode.Unknown);
                partitions.Add(new() { PartitionIndex = p.PartitionIndex, ErrorCode = KafkaErrors.From(error) });
            }
            topics.Add(new() { Name = t.Name, Partitions = partitions });
        }
        return new K.OffsetCommitResponse { Topics = topics };
    }

    /// <summary>A group that never committed has no offsets (-1 each), not an error, as in Kafka.</summary>
    private async Task<IKafkaMessage?> OffsetFetchAsync(K.OffsetFetchRequest request, short version)
    {
        List<TopicPartition>? wanted = null;
        if (request.Topics is { } topics)
        {
            wanted = [];
            foreach (var t in topics)
            {
                foreach (var p in t.PartitionIndexes)
                    wanted.Add(new TopicPartition(t.Name, p));
            }
        }
        var reply = await AskAsync(new OffsetFetchRequest(request.GroupId, wanted), AskTimeout).ConfigureAwait(false);
        var committed = new Dictionary<TopicPartition, CommittedOffset>();
        var groupError = reply.Error == ErrorCode.UnknownGroup ? ErrorCode.None : reply.Error;
        if (reply is OffsetFetchResponse r && r.Error == ErrorCode.None)
            foreach (var c in r.Offsets) committed[new TopicPartition(c.Topic, c.Partition)] = c;

        var order = wanted ?? [.. committed.Keys];
        var response = new K.OffsetFetchResponse { ErrorCode = KafkaErrors.From(groupError) };
        var byTopic = new List<K.OffsetFetchResponse.OffsetFetchResponseTopic>();
        foreach (var group in order.GroupBy(tp => tp.Topic, StringComparer.Ordinal))
        {
            var partitions = new List<K.OffsetFetchResponse.OffsetFetchResponsePartition>();
            foreach (var tp in group)
            {
                var found = committed.GetValueOrDefault(tp);
                partitions.Add(new()
                {
                    PartitionIndex = tp.Partition,
                    CommittedOffset = found?.Offset ?? -1,
                    Metadata = found?.Metadata ?? "",
                    // v0-1 have no top-level error: a group failure is reported on every partition.
                    ErrorCode = version < 2 ? KafkaErrors.From(groupError) : KafkaErrors.None,
                });
            }
            byTopic.Add(new() { Name = group.Key, Partitions = partitions });
        }
        response.Topics = byTopic;
        return response;
    }

    // ---- Group membership

    /// <summary>
    /// Kafka consumers run the assignor on their group leader. Their assignor names reach the coordinator with
    /// this prefix ("kafka:range"), which it does not know as one of its own, so it relays the leader's
    /// assignment as Kafka does instead of assigning itself; and a group cannot mix Kafka and native members
    /// (no common protocol: InconsistentGroupProtocol). The prefix never leaves the listener.
    /// </summary>
    internal const string KafkaProtocolPrefix = "kafka:";

    private static string FromCoordinator(string protocol) =>
        protocol.StartsWith(KafkaProtocolPrefix, StringComparison.Ordinal) ? protocol[KafkaProtocolPrefix.Length..] : protocol;

    private async Task<IKafkaMessage?> JoinGroupAsync(K.JoinGroupRequest request, string clientId)
    {
        var protocols = new List<GroupProtocol>(request.Protocols.Count);
        foreach (var p in request.Protocols) protocols.Add(new GroupProtocol(KafkaProtocolPrefix + p.Name, p.Metadata));
        var rebalanceTimeout = request.RebalanceTimeoutMs > 0 ? request.RebalanceTimeoutMs : request.SessionTimeoutMs; // v0 has none: Kafka uses the session timeout
        var join = new JoinGroupRequest(request.GroupId, request.MemberId, clientId, request.SessionTimeoutMs, rebalanceTimeout, request.ProtocolType, protocols);
        // The answer comes when the rebalance completes, up to the rebalance timeout.
        var reply = await AskAsync(join, AskTimeout + TimeSpan.FromMilliseconds(Math.Max(0, rebalanceTimeout))).ConfigureAwait(false);
        if (reply is not JoinGroupResponse joined)
            return new K.JoinGroupResponse { ErrorCode = KafkaErrors.From(reply.Error == ErrorCode.None ? ErrorCode.Unknown : reply.Error), MemberId = request.MemberId };
        var members = new List<K.JoinGroupResponse.JoinGroupResponseMember>(joined.Members.Count);
        foreach (var m in joined.Members) members.Add(new() { MemberId = m.MemberId, Metadata = m.Metadata });
        return new K.JoinGroupResponse
        {
            ErrorCode = KafkaErrors.From(joined.Error),
            GenerationId = joined.GenerationId,
            ProtocolName = FromCoordinator(joined.ProtocolName ?? ""),
            Leader = joined.LeaderId ?? "",
            MemberId = joined.MemberId ?? request.MemberId,
            Members = members,
        };
    }

    private async Task<IKafkaMessage?> SyncGroupAsync(K.SyncGroupRequest request)
    {
        var assignments = new List<SyncGroupAssignment>(request.Assignments.Count);
        foreach (var a in request.Assignments) assignments.Add(new SyncGroupAssignment(a.MemberId, a.Assignment));
        var reply = await AskAsync(new SyncGroupRequest(request.GroupId, request.GenerationId, request.MemberId, assignments), AskTimeout).ConfigureAwait(false);
        return reply is SyncGroupResponse synced
            ? new K.SyncGroupResponse { ErrorCode = KafkaErrors.From(synced.Error), Assignment = synced.Assignment ?? [] }
            : new K.SyncGroupResponse { ErrorCode = KafkaErrors.From(reply.Error == ErrorCode.None ? ErrorCode.Unknown : reply.Error) };
    }

    private async Task<IKafkaMessage?> HeartbeatAsync(K.HeartbeatRequest request)
    {
        var reply = await AskAsync(new HeartbeatRequest(request.GroupId, request.GenerationId, request.MemberId), AskTimeout).ConfigureAwait(false);
        return new K.HeartbeatResponse { ErrorCode = KafkaErrors.From(reply is HeartbeatResponse || reply.Error != ErrorCode.None ? reply.Error : ErrorCode.Unknown) };
    }

    private async Task<IKafkaMessage?> LeaveGroupAsync(K.LeaveGroupRequest request, short version)
    {
        // v3+ (KIP-345) can name several members; each leaves on its own.
        var memberIds = new List<string>();
        if (version < 3) memberIds.Add(request.MemberId);
        else foreach (var m in request.Members) memberIds.Add(m.MemberId);
        var replies = await Task.WhenAll(memberIds.Select(id => AskAsync(new LeaveGroupRequest(request.GroupId, id), AskTimeout))).ConfigureAwait(false);
        var members = new List<K.LeaveGroupResponse.MemberResponse>(memberIds.Count);
        for (var i = 0; i < memberIds.Count; i++) members.Add(new() { MemberId = memberIds[i], ErrorCode = KafkaErrors.From(replies[i].Error) });
        var first = replies.FirstOrDefault(r => r.Error != ErrorCode.None);
        return new K.LeaveGroupResponse
        {
            ErrorCode = version < 3 && first is not null ? KafkaErrors.From(first.Error) : KafkaErrors.None,
            Members = members,
        };
    }

    private async Task<IKafkaMessage?> DescribeGroupsAsync(K.DescribeGroupsRequest request)
    {
        var replies = await Task.WhenAll(request.Groups.Select(g => AskAsync(new DescribeGroupRequest(g), AskTimeout))).ConfigureAwait(false);
        var groups = new List<K.DescribeGroupsResponse.DescribedGroup>(replies.Length);
        for (var i = 0; i < replies.Length; i++)
        {
            if (replies[i] is not DescribeGroupResponse d || (d.Error != ErrorCode.None && d.Error != ErrorCode.UnknownGroup))
            {
                groups.Add(new() { GroupId = request.Groups[i], ErrorCode = KafkaErrors.From(replies[i].Error == ErrorCode.None ? ErrorCode.Unknown : replies[i].Error) });
                continue;
            }
            if (d.Error == ErrorCode.UnknownGroup)
            {
                // Kafka describes a group it has never seen as Dead with no members.
                groups.Add(new() { GroupId = request.Groups[i], GroupState = "Dead" });
                continue;
            }
            var members = new List<K.DescribeGroupsResponse.DescribedGroupMember>(d.Members.Count);
            foreach (var m in d.Members)
            {
                members.Add(new()
                {
                    MemberId = m.MemberId,
                    ClientId = m.ClientId,
                    ClientHost = "",
                    MemberMetadata = [],
                    MemberAssignment = KafkaConsumerProtocol.WriteAssignment(m.Assignment.Select(p => (p.Topic, p.Partition))),
                });
            }
            groups.Add(new()
            {
                GroupId = d.GroupId,
                GroupState = d.State,
                ProtocolType = d.ProtocolType,
                ProtocolData = FromCoordinator(d.Protocol),
                Members = members,
            });
        }
        return new K.DescribeGroupsResponse { Groups = groups };
    }

    private async Task<IKafkaMessage?> ListGroupsAsync()
    {
        var reply = await AskAsync(new ListGroupsRequest(), AskTimeout).ConfigureAwait(false);
        var groups = new List<K.ListGroupsResponse.ListedGroup>();
        if (reply is ListGroupsResponse listed)
            foreach (var g in listed.Groups) groups.Add(new() { GroupId = g.GroupId, ProtocolType = g.ProtocolType, GroupState = g.State });
        return new K.ListGroupsResponse { ErrorCode = KafkaErrors.From(reply.Error), Groups = groups };
    }
}
