using Broker.Kafka;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Groups;
using K = Broker.Kafka.Messages;

namespace Broker.Server.Kafka;

// FindCoordinator, offsets and group membership: the group coordinators' side of the listener.
internal sealed partial class KafkaRequestHandler
{
    // ---- Group coordinator and committed offsets

    /// <summary>
    /// A group's coordinator runs beside the leader of its __consumer_offsets partition, so that leader's node is the
    /// answer, and only a live one (<see cref="CoordinatorPlacement"/>): while the leader moves the answer is
    /// COORDINATOR_NOT_AVAILABLE and the client asks again, as with Kafka, since group requests are served only where
    /// the coordinator runs. Before the topic exists this node answers: the first group request creates it.
    /// </summary>
    private async Task<IKafkaMessage?> FindCoordinatorAsync(K.FindCoordinatorRequest request, short version)
    {
        // key_type 1 is a transactional id, 2 a share group: neither coordinator exists here.
        var refusal = request.KeyType switch
        {
            0 => null,
            1 => "transactions are not supported: no transaction coordinator",
            _ => $"key type {request.KeyType} is not supported: only consumer groups have a coordinator here",
        };
        var coordinatorOf = refusal is null ? await CoordinatorLookupAsync().ConfigureAwait(false) : null;
        if (version < 4)
        {
            var (error, message, nodeId, host, port) = coordinatorOf?.Invoke(request.Key ?? "") ?? (KafkaErrors.CoordinatorNotAvailable, refusal, -1, "", -1);
            return new K.FindCoordinatorResponse { ErrorCode = error, ErrorMessage = message, NodeId = nodeId, Host = host, Port = port };
        }
        // v4+ (KIP-699): several keys in one request, one answer each.
        var coordinators = new List<K.FindCoordinatorResponse.Coordinator>(request.CoordinatorKeys.Count);
        foreach (var key in request.CoordinatorKeys)
        {
            var (error, message, nodeId, host, port) = coordinatorOf?.Invoke(key) ?? (KafkaErrors.CoordinatorNotAvailable, refusal, -1, "", -1);
            coordinators.Add(new() { Key = key, NodeId = nodeId, Host = host, Port = port, ErrorCode = error, ErrorMessage = message });
        }
        return new K.FindCoordinatorResponse { Coordinators = coordinators };
    }

    /// <summary>Group id -> the live node leading its __consumer_offsets partition (with its Kafka address), this node before the topic exists, or COORDINATOR_NOT_AVAILABLE.</summary>
    private async Task<Func<string, (short Error, string? Message, int NodeId, string Host, int Port)>> CoordinatorLookupAsync()
    {
        (short, string?, int, string, int) self = (KafkaErrors.None, null, _nodeId, _advertisedHost, _advertisedPort);
        var reply = await AskAsync(new MetadataRequest([OffsetsTopic.Name]), AskTimeout).ConfigureAwait(false);
        if (reply is not MetadataResponse { Topics: [var topic] } metadata || topic.Error == ErrorCode.UnknownTopic || topic.Partitions.Count == 0)
        {
            // No topic yet (a group request creates it) or no answer: the node asked serves, as before the topic existed.
            return _ => self;
        }
        var endpoints = new Dictionary<int, (string Host, int Port)>();
        foreach (var b in metadata.Brokers)
        {
            if (b.NodeId >= 0 && b.Status == "Up" && KafkaEndpoint.Parse(b.Roles) is { } endpoint) endpoints[b.NodeId] = endpoint;
        }
        var leaders = new Dictionary<int, int>();
        foreach (var p in topic.Partitions) leaders[p.Partition] = p.LeaderId;
        return key =>
        {
            var leader = leaders.GetValueOrDefault(OffsetsTopic.PartitionFor(key, topic.Partitions.Count), -1);
            switch (CoordinatorPlacement.Of(topicExists: true, leader, _nodeId, endpoints.ContainsKey))
            {
                case CoordinatorPlacement.Here:
                    return self;
                case CoordinatorPlacement.Elsewhere elsewhere:
                    var at = endpoints[elsewhere.NodeId];
                    return (KafkaErrors.None, null, elsewhere.NodeId, at.Host, at.Port);
                case CoordinatorPlacement.Unknown unknown:
                    _gateway.Tell(new Gateway.WakeCoordinator(key), Akka.Actor.ActorRefs.NoSender);
                    return (KafkaErrors.CoordinatorNotAvailable, $"group {key} has no coordinator now ({unknown.Reason}); ask again shortly", -1, "", -1);
                default:
                    return self;
            }
        };
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
        var reply = await AskCoordinatorAsync(commit).ConfigureAwait(false);

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

    /// <summary>A group that never committed has no offsets (-1 each), not an error, as in Kafka. v8+ ask for several groups at once.</summary>
    private async Task<IKafkaMessage?> OffsetFetchAsync(K.OffsetFetchRequest request, short version)
    {
        if (version < 8)
        {
            var (error, topics) = await GroupOffsetsAsync(request.GroupId, request.Topics?.Select(t => (t.Name, t.PartitionIndexes)), version).ConfigureAwait(false);
            return new K.OffsetFetchResponse
            {
                ErrorCode = error,
                Topics = [.. topics.Select(t => new K.OffsetFetchResponse.OffsetFetchResponseTopic
                {
                    Name = t.Name,
                    Partitions = [.. t.Partitions.Select(p => new K.OffsetFetchResponse.OffsetFetchResponsePartition
                    {
                        PartitionIndex = p.Partition, CommittedOffset = p.Offset, Metadata = p.Metadata, ErrorCode = p.Error,
                    })],
                })],
            };
        }
        var groups = await Task.WhenAll(request.Groups.Select(async g =>
        {
            var (error, topics) = await GroupOffsetsAsync(g.GroupId, g.Topics?.Select(t => (t.Name, t.PartitionIndexes)), version).ConfigureAwait(false);
            return new K.OffsetFetchResponse.OffsetFetchResponseGroup
            {
                GroupId = g.GroupId,
                ErrorCode = error,
                Topics = [.. topics.Select(t => new K.OffsetFetchResponse.OffsetFetchResponseTopics
                {
                    Name = t.Name,
                    Partitions = [.. t.Partitions.Select(p => new K.OffsetFetchResponse.OffsetFetchResponsePartitions
                    {
                        PartitionIndex = p.Partition, CommittedOffset = p.Offset, Metadata = p.Metadata, ErrorCode = p.Error,
                    })],
                })],
            };
        })).ConfigureAwait(false);
        return new K.OffsetFetchResponse { Groups = [.. groups] };
    }

    private sealed record FetchedOffset(int Partition, long Offset, string Metadata, short Error);

    /// <summary>One group's committed offsets, by topic in the order asked (every committed partition when <paramref name="asked"/> is null).</summary>
    private async Task<(short Error, List<(string Name, List<FetchedOffset> Partitions)> Topics)> GroupOffsetsAsync(
        string groupId, IEnumerable<(string Name, IReadOnlyList<int> Partitions)>? asked, short version)
    {
        List<TopicPartition>? wanted = null;
        if (asked is not null)
        {
            wanted = [];
            foreach (var (name, partitions) in asked)
            {
                foreach (var p in partitions)
                    wanted.Add(new TopicPartition(name, p));
            }
        }
        var reply = await AskCoordinatorAsync(new OffsetFetchRequest(groupId, wanted)).ConfigureAwait(false);
        var committed = new Dictionary<TopicPartition, CommittedOffset>();
        var groupError = reply.Error == ErrorCode.UnknownGroup ? ErrorCode.None : reply.Error;
        if (reply is OffsetFetchResponse r && r.Error == ErrorCode.None)
            foreach (var c in r.Offsets) committed[new TopicPartition(c.Topic, c.Partition)] = c;

        var order = wanted ?? [.. committed.Keys];
        var byTopic = new List<(string, List<FetchedOffset>)>();
        foreach (var group in order.GroupBy(tp => tp.Topic, StringComparer.Ordinal))
        {
            var partitions = new List<FetchedOffset>();
            foreach (var tp in group)
            {
                var found = committed.GetValueOrDefault(tp);
                // v0-1 have no top-level error: a group failure is reported on every partition.
                partitions.Add(new FetchedOffset(tp.Partition, found?.Offset ?? -1, found?.Metadata ?? "", version < 2 ? KafkaErrors.From(groupError) : KafkaErrors.None));
            }
            byTopic.Add((group.Key, partitions));
        }
        return (KafkaErrors.From(groupError), byTopic);
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
        var reply = await AskCoordinatorAsync(join).ConfigureAwait(false); // answered when the rebalance completes
        if (reply is not JoinGroupResponse joined)
            return new K.JoinGroupResponse { ErrorCode = KafkaErrors.From(reply.Error == ErrorCode.None ? ErrorCode.Unknown : reply.Error), MemberId = request.MemberId };
        var members = new List<K.JoinGroupResponse.JoinGroupResponseMember>(joined.Members.Count);
        foreach (var m in joined.Members) members.Add(new() { MemberId = m.MemberId, Metadata = m.Metadata });
        return new K.JoinGroupResponse
        {
            ErrorCode = KafkaErrors.From(joined.Error),
            GenerationId = joined.GenerationId,
            ProtocolType = request.ProtocolType, // v7+; a group has the protocol type of its members, all the same
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
        var reply = await AskCoordinatorAsync(new SyncGroupRequest(request.GroupId, request.GenerationId, request.MemberId, assignments)).ConfigureAwait(false);
        // v5+ answer the group's protocol type and name, which the client checks against its own: the member's, as the coordinator
        // has just accepted its sync for this generation.
        return reply is SyncGroupResponse synced
            ? new K.SyncGroupResponse { ErrorCode = KafkaErrors.From(synced.Error), ProtocolType = request.ProtocolType, ProtocolName = request.ProtocolName, Assignment = synced.Assignment ?? [] }
            : new K.SyncGroupResponse { ErrorCode = KafkaErrors.From(reply.Error == ErrorCode.None ? ErrorCode.Unknown : reply.Error) };
    }

    private async Task<IKafkaMessage?> HeartbeatAsync(K.HeartbeatRequest request)
    {
        var reply = await AskCoordinatorAsync(new HeartbeatRequest(request.GroupId, request.GenerationId, request.MemberId)).ConfigureAwait(false);
        return new K.HeartbeatResponse { ErrorCode = KafkaErrors.From(reply is HeartbeatResponse || reply.Error != ErrorCode.None ? reply.Error : ErrorCode.Unknown) };
    }

    private async Task<IKafkaMessage?> LeaveGroupAsync(K.LeaveGroupRequest request, short version)
    {
        // v3+ (KIP-345) can name several members; each leaves on its own.
        var memberIds = new List<string>();
        if (version < 3) memberIds.Add(request.MemberId);
        else foreach (var m in request.Members) memberIds.Add(m.MemberId);
        var replies = await Task.WhenAll(memberIds.Select(id => AskCoordinatorAsync(new LeaveGroupRequest(request.GroupId, id)))).ConfigureAwait(false);
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
        var replies = await Task.WhenAll(request.Groups.Select(g => AskCoordinatorAsync(new DescribeGroupRequest(g)))).ConfigureAwait(false);
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

    // ---- KIP-848 consumer groups

    /// <summary>
    /// ConsumerGroupHeartbeat: Kafka names topics by id, the coordinator by name; owned partitions of a topic id this node
    /// cannot resolve are left out (the topic is gone). Regular-expression subscriptions (v1) are not served.
    /// </summary>
    private async Task<IKafkaMessage?> ConsumerGroupHeartbeatAsync(K.ConsumerGroupHeartbeatRequest request, string clientId)
    {
        if (!string.IsNullOrEmpty(request.SubscribedTopicRegex))
        {
            return new K.ConsumerGroupHeartbeatResponse
            {
                ErrorCode = KafkaErrors.InvalidRequest, ErrorMessage = "subscribing by regular expression is not supported by this broker; subscribe to topic names",
                MemberId = request.MemberId, MemberEpoch = request.MemberEpoch,
            };
        }
        List<TopicPartition>? owned = null;
        if (request.TopicPartitions is { } held)
        {
            owned = [];
            foreach (var t in held)
            {
                if (await TopicNameAsync(t.TopicId).ConfigureAwait(false) is not { } name) continue;
                foreach (var p in t.Partitions) owned.Add(new TopicPartition(name, p));
            }
        }
        var heartbeat = new ConsumerGroupHeartbeatRequest(request.GroupId, request.MemberId, request.MemberEpoch, clientId, request.RebalanceTimeoutMs,
            request.SubscribedTopicNames, request.ServerAssignor, owned);
        var reply = await AskCoordinatorAsync(heartbeat).ConfigureAwait(false);
        if (reply is not ConsumerGroupHeartbeatResponse answer)
        {
            return new K.ConsumerGroupHeartbeatResponse
            {
                ErrorCode = KafkaErrors.From(reply.Error == ErrorCode.None ? ErrorCode.Unknown : reply.Error), ErrorMessage = reply.ErrorMessage,
                MemberId = request.MemberId, MemberEpoch = request.MemberEpoch,
            };
        }
        return new K.ConsumerGroupHeartbeatResponse
        {
            ErrorCode = KafkaErrors.From(answer.Error),
            ErrorMessage = answer.ErrorMessage,
            MemberId = answer.MemberId,
            MemberEpoch = answer.MemberEpoch,
            HeartbeatIntervalMs = answer.HeartbeatIntervalMs,
            Assignment = answer.Assignment is { } assigned
                ? new K.ConsumerGroupHeartbeatResponse.AssignmentData { TopicPartitions = await ByTopicIdAsync(assigned).ConfigureAwait(false) }
                : null,
        };
    }

    private async Task<List<K.ConsumerGroupHeartbeatResponse.TopicPartitionsData>> ByTopicIdAsync(IReadOnlyList<TopicPartition> partitions)
    {
        var result = new List<K.ConsumerGroupHeartbeatResponse.TopicPartitionsData>();
        foreach (var (topic, numbers) in ByTopic(partitions))
            result.Add(new() { TopicId = await TopicIdAsync(topic).ConfigureAwait(false), Partitions = numbers });
        return result;
    }

    /// <summary>The id of a topic by name; asks for every topic's metadata once when the name is not known yet.</summary>
    private async Task<Guid> TopicIdAsync(string name)
    {
        var id = _topicIds.IdOf(name);
        if (id != Guid.Empty) return id;
        if (await AskAsync(new MetadataRequest([name]), AskTimeout).ConfigureAwait(false) is MetadataResponse metadata) LearnTopicIds(metadata);
        return _topicIds.IdOf(name);
    }

    private static List<(string Topic, List<int> Partitions)> ByTopic(IReadOnlyList<TopicPartition> partitions)
    {
        var byTopic = new List<(string Topic, List<int> Partitions)>();
        foreach (var p in partitions)
        {
            if (byTopic.Count == 0 || byTopic[^1].Topic != p.Topic) byTopic.Add((p.Topic, []));
            byTopic[^1].Partitions.Add(p.Partition);
        }
        return byTopic;
    }

    /// <summary>ConsumerGroupDescribe: each group by its coordinator; a classic or unknown group is GROUP_ID_NOT_FOUND, as in Kafka.</summary>
    private async Task<IKafkaMessage?> ConsumerGroupDescribeAsync(K.ConsumerGroupDescribeRequest request)
    {
        var replies = await Task.WhenAll(request.GroupIds.Select(g => AskCoordinatorAsync(new DescribeConsumerGroupRequest(g)))).ConfigureAwait(false);
        var groups = new List<K.ConsumerGroupDescribeResponse.DescribedGroup>(replies.Length);
        for (var i = 0; i < replies.Length; i++)
        {
            if (replies[i] is not DescribeConsumerGroupResponse { Error: ErrorCode.None } d)
            {
                var error = replies[i].Error == ErrorCode.None ? ErrorCode.Unknown : replies[i].Error;
                groups.Add(new() { GroupId = request.GroupIds[i], ErrorCode = KafkaErrors.From(error), ErrorMessage = replies[i].ErrorMessage, GroupState = "Dead" });
                continue;
            }
            var members = new List<K.ConsumerGroupDescribeResponse.Member>(d.Members.Count);
            foreach (var m in d.Members)
            {
                members.Add(new()
                {
                    MemberId = m.MemberId,
                    MemberEpoch = m.MemberEpoch,
                    ClientId = m.ClientId,
                    ClientHost = "",
                    SubscribedTopicNames = [.. m.SubscribedTopics],
                    Assignment = await DescribedAssignmentAsync(m.Assignment).ConfigureAwait(false),
                    TargetAssignment = await DescribedAssignmentAsync(m.TargetAssignment).ConfigureAwait(false),
                });
            }
            groups.Add(new()
            {
                GroupId = d.GroupId,
                GroupState = d.State,
                GroupEpoch = d.GroupEpoch,
                AssignmentEpoch = d.AssignmentEpoch,
                AssignorName = d.Assignor,
                Members = members,
            });
        }
        return new K.ConsumerGroupDescribeResponse { Groups = groups };
    }

    private async Task<K.ConsumerGroupDescribeResponse.AssignmentData> DescribedAssignmentAsync(IReadOnlyList<TopicPartition> partitions)
    {
        var topics = new List<K.ConsumerGroupDescribeResponse.TopicPartitionsData>();
        foreach (var (topic, numbers) in ByTopic(partitions))
            topics.Add(new() { TopicId = await TopicIdAsync(topic).ConfigureAwait(false), TopicName = topic, Partitions = numbers });
        return new K.ConsumerGroupDescribeResponse.AssignmentData { TopicPartitions = topics };
    }

    // ---- DeleteGroups / OffsetDelete

    /// <summary>Each group is deleted by its own coordinator: only an Empty one (NON_EMPTY_GROUP), only one that exists (GROUP_ID_NOT_FOUND).</summary>
    private async Task<IKafkaMessage?> DeleteGroupsAsync(K.DeleteGroupsRequest request)
    {
        var replies = await Task.WhenAll(request.GroupsNames.Select(g => AskCoordinatorAsync(new DeleteGroupRequest(g)))).ConfigureAwait(false);
        var results = new List<K.DeleteGroupsResponse.DeletableGroupResult>(replies.Length);
        for (var i = 0; i < replies.Length; i++)
            results.Add(new() { GroupId = request.GroupsNames[i], ErrorCode = KafkaErrors.From(replies[i] is DeleteGroupResponse || replies[i].Error != ErrorCode.None ? replies[i].Error : ErrorCode.Unknown) });
        return new K.DeleteGroupsResponse { Results = results };
    }

    private async Task<IKafkaMessage?> OffsetDeleteAsync(K.OffsetDeleteRequest request)
    {
        var partitions = new List<TopicPartition>();
        foreach (var t in request.Topics)
        {
            foreach (var p in t.Partitions)
                partitions.Add(new TopicPartition(t.Name, p.PartitionIndex));
        }
        var reply = await AskCoordinatorAsync(new DeleteGroupOffsetsRequest(request.GroupId, partitions)).ConfigureAwait(false);
        if (reply is not DeleteGroupOffsetsResponse { Error: ErrorCode.None } deleted)
            return new K.OffsetDeleteResponse { ErrorCode = KafkaErrors.From(reply.Error == ErrorCode.None ? ErrorCode.Unknown : reply.Error), Topics = [] };
        var byPartition = deleted.Results.ToDictionary(r => new TopicPartition(r.Topic, r.Partition), r => r.Error);
        return new K.OffsetDeleteResponse
        {
            ErrorCode = KafkaErrors.None,
            Topics = [.. request.Topics.Select(t => new K.OffsetDeleteResponse.OffsetDeleteResponseTopic
            {
                Name = t.Name,
                Partitions = [.. t.Partitions.Select(p => new K.OffsetDeleteResponse.OffsetDeleteResponsePartition
                {
                    PartitionIndex = p.PartitionIndex,
                    ErrorCode = KafkaErrors.From(byPartition.GetValueOrDefault(new TopicPartition(t.Name, p.PartitionIndex), ErrorCode.Unknown)),
                })],
            })],
        };
    }

    /// <summary>
    /// v4+ filter by state and v5+ by type, each a case-insensitive match as in Kafka (a type Kafka does not know matches
    /// no group). A KIP-848 group is listed as "consumer", every other as "classic"; both report protocol type "consumer"
    /// when Kafka consumers use them.
    /// </summary>
    private async Task<IKafkaMessage?> ListGroupsAsync(K.ListGroupsRequest request)
    {
        var reply = await AskAsync(new ListGroupsRequest(), AskTimeout).ConfigureAwait(false);
        var groups = new List<K.ListGroupsResponse.ListedGroup>();
        if (reply is ListGroupsResponse listed)
        {
            foreach (var g in listed.Groups)
            {
                var type = KafkaGroupType(g.Type);
                if (!Matches(request.StatesFilter, g.State) || !Matches(request.TypesFilter, type)) continue;
                groups.Add(new() { GroupId = g.GroupId, ProtocolType = g.ProtocolType, GroupState = g.State, GroupType = type });
            }
        }
        return new K.ListGroupsResponse { ErrorCode = KafkaErrors.From(reply.Error), Groups = groups };

        static bool Matches(IReadOnlyList<string> filter, string value)
        {
            if (filter.Count == 0) return true;
            foreach (var f in filter)
            {
                if (string.Equals(f, value, StringComparison.OrdinalIgnoreCase)) return true;
            }
            return false;
        }
    }

    /// <summary>Kafka's name of a group type (KIP-848's GroupType: "classic", "consumer").</summary>
    private static string KafkaGroupType(GroupType type) => type == GroupType.Consumer ? "consumer" : "classic";
}
