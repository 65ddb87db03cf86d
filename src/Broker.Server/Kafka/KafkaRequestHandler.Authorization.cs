using Broker.Kafka;
using Broker.Server.Security.Authorization;
using K = Broker.Kafka.Messages;

namespace Broker.Server.Kafka;

/// <summary>Who sent a request on the Kafka listener: the principal (<c>User:NAME</c>) and the client's address, for ACL host matching.</summary>
internal readonly record struct KafkaPrincipal(string Name, string Host)
{
    public static KafkaPrincipal Of(string user, string remote) => new("User:" + user, HostOf(remote));

    private static string HostOf(string remote)
    {
        var colon = remote.LastIndexOf(':');
        return (colon > 0 ? remote[..colon] : remote).Trim('[', ']');
    }
}

// Kafka's ACLs on the listener (docs/security.md), checked before a request reaches the gateway: a topic the principal
// may not use is taken out of the request and answered with TOPIC_AUTHORIZATION_FAILED beside the others' answers; a
// group it may not use fails the whole request with GROUP_AUTHORIZATION_FAILED; cluster-wide operations need the
// cluster resource (CLUSTER_AUTHORIZATION_FAILED). Metadata leaves out the topics it may not Describe, as Kafka does.
internal sealed partial class KafkaRequestHandler
{
    /// <summary>The node's ACLs, or null when authorization is off (every request is allowed).</summary>
    public ClusterSecurity? Security { get; init; }

    private bool Checks => Security is { Settings.Enabled: true };

    private bool Allowed(KafkaPrincipal who, AclOperation operation, ResourceType type, string name) =>
        Security is not { Settings.Enabled: true } security || security.Authorizer.Authorize(who.Name, who.Host, operation, type, name);

    /// <summary>The refusal's text: what is missing and the command that grants it.</summary>
    public static string Refusal(KafkaPrincipal who, AclOperation operation, ResourceType type, string name) =>
        ClientRequestAuthorization.Refusal(who.Name, operation, type, name);

    /// <summary>Takes the items <paramref name="who"/> may not <paramref name="operation"/> out of <paramref name="items"/>: returns the rest, <paramref name="denied"/> the others.</summary>
    private List<T> Strip<T>(IReadOnlyList<T> items, Func<T, string> name, KafkaPrincipal who, AclOperation operation, out List<T> denied, ResourceType type = ResourceType.Topic)
    {
        var kept = new List<T>(items.Count);
        denied = [];
        foreach (var item in items)
        {
            if (Allowed(who, operation, type, name(item))) kept.Add(item);
            else denied.Add(item);
        }
        return kept;
    }

    private static async Task<IKafkaMessage?> Then(Task<IKafkaMessage?> response, Action<IKafkaMessage> addDenied)
    {
        var message = await response.ConfigureAwait(false);
        if (message is not null) addDenied(message);
        return message;
    }

    private Task<IKafkaMessage?> AuthorizedProduce(K.ProduceRequest request, short version, KafkaPrincipal who)
    {
        request.TopicData = Strip(request.TopicData, t => t.Name, who, AclOperation.Write, out var denied);
        if (denied.Count == 0) return Produce(request, version);
        if (request.TopicData.Count == 0)
            return Task.FromResult<IKafkaMessage?>(request.Acks == 0 ? null : AddDenied(new K.ProduceResponse(), denied, who));
        return Then(Produce(request, version), m => AddDenied((K.ProduceResponse)m, denied, who));
    }

    private static K.ProduceResponse AddDenied(K.ProduceResponse response, List<K.ProduceRequest.TopicProduceData> denied, KafkaPrincipal who)
    {
        var topics = response.Responses.ToList();
        foreach (var t in denied)
        {
            var message = Refusal(who, AclOperation.Write, ResourceType.Topic, t.Name);
            topics.Add(new()
            {
                Name = t.Name,
                PartitionResponses = t.PartitionData.Select(p => new K.ProduceResponse.PartitionProduceResponse
                {
                    Index = p.Index, ErrorCode = KafkaErrors.TopicAuthorizationFailed, BaseOffset = -1, LogAppendTimeMs = -1, LogStartOffset = -1, ErrorMessage = message,
                }).ToList(),
            });
        }
        response.Responses = topics;
        return response;
    }

    /// <summary>
    /// Fetch: Read on each topic. Checked on the request and again on the answer, since a fetch session (KIP-227)
    /// answers partitions the request no longer names: one whose ACL was removed since gets TOPIC_AUTHORIZATION_FAILED
    /// and no records.
    /// </summary>
    private Task<IKafkaMessage?> AuthorizedFetch(K.FetchRequest request, short version, ParkedFetches parked, KafkaPrincipal who)
    {
        request.Topics = Strip(request.Topics, t => TopicName(t.Topic, t.TopicId), who, AclOperation.Read, out var denied);
        return Then(FetchAsync(request, version, parked), m =>
        {
            var response = (K.FetchResponse)m;
            var topics = new List<K.FetchResponse.FetchableTopicResponse>(response.Responses.Count + denied.Count);
            foreach (var t in response.Responses)
            {
                if (!Allowed(who, AclOperation.Read, ResourceType.Topic, TopicName(t.Topic, t.TopicId)))
                {
                    foreach (var p in t.Partitions) (p.ErrorCode, p.Records) = (KafkaErrors.TopicAuthorizationFailed, ReadOnlyMemory<byte>.Empty);
                }
                topics.Add(t);
            }
            foreach (var t in denied)
            {
                topics.Add(new()
                {
                    Topic = t.Topic,
                    TopicId = t.TopicId,
                    Partitions = t.Partitions.Select(p => new K.FetchResponse.PartitionData
                    {
                        PartitionIndex = p.Partition, ErrorCode = KafkaErrors.TopicAuthorizationFailed, HighWatermark = -1, LastStableOffset = -1, LogStartOffset = -1,
                    }).ToList(),
                });
            }
            response.Responses = topics;
        });
    }

    /// <summary>A topic named by name (Fetch up to v12) or by id (v13+); an id not known is no name, so no ACL matches it but a wildcard.</summary>
    private string TopicName(string name, Guid id) => name.Length > 0 ? name : _topicIds.Resolve(id) ?? "";

    private Task<IKafkaMessage?> AuthorizedListOffsets(K.ListOffsetsRequest request, short version, KafkaPrincipal who)
    {
        request.Topics = Strip(request.Topics, t => t.Name, who, AclOperation.Describe, out var denied);
        if (denied.Count == 0) return ListOffsetsAsync(request, version);
        return Then(ListOffsetsAsync(request, version), m =>
        {
            var response = (K.ListOffsetsResponse)m;
            response.Topics = response.Topics.Concat(denied.Select(t => new K.ListOffsetsResponse.ListOffsetsTopicResponse
            {
                Name = t.Name,
                Partitions = t.Partitions.Select(p => new K.ListOffsetsResponse.ListOffsetsPartitionResponse
                {
                    PartitionIndex = p.PartitionIndex, ErrorCode = KafkaErrors.TopicAuthorizationFailed, Timestamp = -1, Offset = -1,
                }).ToList(),
            })).ToList();
        });
    }

    private Task<IKafkaMessage?> AuthorizedOffsetForLeaderEpoch(K.OffsetForLeaderEpochRequest request, KafkaPrincipal who)
    {
        request.Topics = Strip(request.Topics, t => t.Topic, who, AclOperation.Describe, out var denied);
        if (denied.Count == 0) return OffsetForLeaderEpochAsync(request);
        return Then(OffsetForLeaderEpochAsync(request), m =>
        {
            var response = (K.OffsetForLeaderEpochResponse)m;
            response.Topics = response.Topics.Concat(denied.Select(t => new K.OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult
            {
                Topic = t.Topic,
                Partitions = t.Partitions.Select(p => new K.OffsetForLeaderEpochResponse.EpochEndOffset
                {
                    Partition = p.Partition, ErrorCode = KafkaErrors.TopicAuthorizationFailed, LeaderEpoch = -1, EndOffset = -1,
                }).ToList(),
            })).ToList();
        });
    }

    /// <summary>Metadata: named topics the principal may not Describe are answered TOPIC_AUTHORIZATION_FAILED; a listing of every topic leaves them out.</summary>
    private Task<IKafkaMessage?> AuthorizedMetadata(K.MetadataRequest request, short version, KafkaPrincipal who)
    {
        // Automatic topic creation needs Create on the cluster (Metadata v0-3, which cannot opt out, are not checked).
        if (!Allowed(who, AclOperation.Create, ResourceType.Cluster, AclBinding.ClusterName)) request.AllowAutoTopicCreation = false;
        return Then(MetadataAsync(request, version), m =>
        {
            var response = (K.MetadataResponse)m;
            var named = request.Topics is { } asked && (version > 0 || asked.Count > 0);
            var topics = new List<K.MetadataResponse.MetadataResponseTopic>(response.Topics.Count);
            foreach (var t in response.Topics)
            {
                if (t.Name is null || Allowed(who, AclOperation.Describe, ResourceType.Topic, t.Name)) topics.Add(t);
                else if (named) topics.Add(new() { Name = t.Name, ErrorCode = KafkaErrors.TopicAuthorizationFailed, Partitions = [] });
            }
            response.Topics = topics;
        });
    }

    private Task<IKafkaMessage?> AuthorizedCreateTopics(K.CreateTopicsRequest request, short version, KafkaPrincipal who)
    {
        // Create on the cluster allows every topic; otherwise Create on the topic itself (Kafka's rule).
        if (Allowed(who, AclOperation.Create, ResourceType.Cluster, AclBinding.ClusterName)) return CreateTopicsAsync(request, version);
        request.Topics = Strip(request.Topics, t => t.Name, who, AclOperation.Create, out var denied);
        if (denied.Count == 0) return CreateTopicsAsync(request, version);
        return Then(CreateTopicsAsync(request, version), m =>
        {
            var response = (K.CreateTopicsResponse)m;
            response.Topics = response.Topics.Concat(denied.Select(t => new K.CreateTopicsResponse.CreatableTopicResult
            {
                Name = t.Name, ErrorCode = KafkaErrors.TopicAuthorizationFailed, ErrorMessage = Refusal(who, AclOperation.Create, ResourceType.Topic, t.Name),
                NumPartitions = -1, ReplicationFactor = -1,
            })).ToList();
        });
    }

    private Task<IKafkaMessage?> AuthorizedDeleteTopics(K.DeleteTopicsRequest request, short version, KafkaPrincipal who)
    {
        List<string> denied;
        if (version >= 6)
        {
            request.Topics = Strip(request.Topics, t => TopicName(t.Name ?? "", t.TopicId), who, AclOperation.Delete, out var deniedStates);
            denied = deniedStates.Select(t => TopicName(t.Name ?? "", t.TopicId)).ToList();
        }
        else
        {
            request.TopicNames = Strip(request.TopicNames, t => t, who, AclOperation.Delete, out denied);
        }
        if (denied.Count == 0) return DeleteTopicsAsync(request, version);
        return Then(DeleteTopicsAsync(request, version), m =>
        {
            var response = (K.DeleteTopicsResponse)m;
            response.Responses = response.Responses.Concat(denied.Select(name => new K.DeleteTopicsResponse.DeletableTopicResult
            {
                Name = name, TopicId = _topicIds.IdOf(name), ErrorCode = KafkaErrors.TopicAuthorizationFailed,
                ErrorMessage = Refusal(who, AclOperation.Delete, ResourceType.Topic, name),
            })).ToList();
        });
    }

    private Task<IKafkaMessage?> AuthorizedOffsetCommit(K.OffsetCommitRequest request, KafkaPrincipal who)
    {
        var groupAllowed = Allowed(who, AclOperation.Read, ResourceType.Group, request.GroupId);
        List<K.OffsetCommitRequest.OffsetCommitRequestTopic> kept = [], denied = [.. request.Topics];
        if (groupAllowed)
        {
            kept = Strip(request.Topics, t => t.Name, who, AclOperation.Read, out denied);
            if (denied.Count == 0) return OffsetCommitAsync(request);
        }
        var error = groupAllowed ? KafkaErrors.TopicAuthorizationFailed : KafkaErrors.GroupAuthorizationFailed;
        var refusedTopics = denied.Select(t => new K.OffsetCommitResponse.OffsetCommitResponseTopic
        {
            Name = t.Name,
            Partitions = t.Partitions.Select(p => new K.OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = error }).ToList(),
        }).ToList();
        if (kept.Count == 0) return Task.FromResult<IKafkaMessage?>(new K.OffsetCommitResponse { Topics = refusedTopics });
        request.Topics = kept;
        return Then(OffsetCommitAsync(request), m =>
        {
            var response = (K.OffsetCommitResponse)m;
            response.Topics = response.Topics.Concat(refusedTopics).ToList();
        });
    }

    /// <summary>OffsetFetch: Describe on the group (v0-7: one group; v8+: each group, one refused group refuses only itself).</summary>
    private Task<IKafkaMessage?> AuthorizedOffsetFetch(K.OffsetFetchRequest request, short version, KafkaPrincipal who)
    {
        if (version < 8)
        {
            return Allowed(who, AclOperation.Describe, ResourceType.Group, request.GroupId)
                ? OffsetFetchAsync(request, version)
                : Task.FromResult<IKafkaMessage?>(new K.OffsetFetchResponse { ErrorCode = KafkaErrors.GroupAuthorizationFailed });
        }
        request.Groups = Strip(request.Groups, g => g.GroupId, who, AclOperation.Describe, out var denied, ResourceType.Group);
        if (denied.Count == 0) return OffsetFetchAsync(request, version);
        var refused = denied.Select(g => new K.OffsetFetchResponse.OffsetFetchResponseGroup { GroupId = g.GroupId, ErrorCode = KafkaErrors.GroupAuthorizationFailed }).ToList();
        if (request.Groups.Count == 0) return Task.FromResult<IKafkaMessage?>(new K.OffsetFetchResponse { Groups = refused });
        return Then(OffsetFetchAsync(request, version), m =>
        {
            var response = (K.OffsetFetchResponse)m;
            response.Groups = response.Groups.Concat(refused).ToList();
        });
    }

    /// <summary>The group APIs that act on one group (JoinGroup, SyncGroup, Heartbeat, LeaveGroup): Read on it, or GROUP_AUTHORIZATION_FAILED.</summary>
    private Task<IKafkaMessage?> ForGroup(string group, KafkaPrincipal who, Func<Task<IKafkaMessage?>> handle, Func<IKafkaMessage> refused) =>
        Allowed(who, AclOperation.Read, ResourceType.Group, group) ? handle() : Task.FromResult<IKafkaMessage?>(refused());

    private async Task<IKafkaMessage?> AuthorizedFindCoordinatorAsync(K.FindCoordinatorRequest request, short version, KafkaPrincipal who)
    {
        var response = (K.FindCoordinatorResponse)(await FindCoordinatorAsync(request, version).ConfigureAwait(false))!;
        if (request.KeyType != 0) return response;
        if (version < 4)
        {
            if (Allowed(who, AclOperation.Describe, ResourceType.Group, request.Key)) return response;
            return new K.FindCoordinatorResponse
            {
                ErrorCode = KafkaErrors.GroupAuthorizationFailed, ErrorMessage = Refusal(who, AclOperation.Describe, ResourceType.Group, request.Key), NodeId = -1, Host = "", Port = -1,
            };
        }
        foreach (var c in response.Coordinators)
        {
            if (Allowed(who, AclOperation.Describe, ResourceType.Group, c.Key)) continue;
            (c.ErrorCode, c.ErrorMessage, c.NodeId, c.Host, c.Port) = (KafkaErrors.GroupAuthorizationFailed, Refusal(who, AclOperation.Describe, ResourceType.Group, c.Key), -1, "", -1);
        }
        return response;
    }

    /// <summary>ListGroups answers only the groups the principal may Describe (as Kafka does): no error, fewer groups.</summary>
    private Task<IKafkaMessage?> AuthorizedListGroups(K.ListGroupsRequest request, KafkaPrincipal who) =>
        Then(ListGroupsAsync(request), m =>
        {
            var response = (K.ListGroupsResponse)m;
            response.Groups = response.Groups.Where(g => Allowed(who, AclOperation.Describe, ResourceType.Group, g.GroupId)).ToList();
        });

    /// <summary>DescribeGroups: each group the principal may not Describe is answered GROUP_AUTHORIZATION_FAILED.</summary>
    /// <summary>ConsumerGroupDescribe needs Describe on each group; the others are answered GROUP_AUTHORIZATION_FAILED beside the rest.</summary>
    private Task<IKafkaMessage?> AuthorizedConsumerGroupDescribe(K.ConsumerGroupDescribeRequest request, KafkaPrincipal who)
    {
        request.GroupIds = Strip(request.GroupIds, g => g, who, AclOperation.Describe, out var denied, ResourceType.Group);
        var refused = denied.Select(g => new K.ConsumerGroupDescribeResponse.DescribedGroup { GroupId = g, ErrorCode = KafkaErrors.GroupAuthorizationFailed }).ToList();
        if (request.GroupIds.Count == 0) return Task.FromResult<IKafkaMessage?>(new K.ConsumerGroupDescribeResponse { Groups = refused });
        return Then(ConsumerGroupDescribeAsync(request), m =>
        {
            var response = (K.ConsumerGroupDescribeResponse)m;
            response.Groups = response.Groups.Concat(refused).ToList();
        });
    }

    private Task<IKafkaMessage?> AuthorizedDescribeGroups(K.DescribeGroupsRequest request, KafkaPrincipal who)
    {
        request.Groups = Strip(request.Groups, g => g, who, AclOperation.Describe, out var denied, ResourceType.Group);
        var refused = denied.Select(g => new K.DescribeGroupsResponse.DescribedGroup { GroupId = g, ErrorCode = KafkaErrors.GroupAuthorizationFailed }).ToList();
        if (request.Groups.Count == 0) return Task.FromResult<IKafkaMessage?>(new K.DescribeGroupsResponse { Groups = refused });
        return Then(DescribeGroupsAsync(request), m =>
        {
            var response = (K.DescribeGroupsResponse)m;
            response.Groups = response.Groups.Concat(refused).ToList();
        });
    }

    /// <summary>DescribeCluster: Describe on the cluster, or CLUSTER_AUTHORIZATION_FAILED.</summary>
    private Task<IKafkaMessage?> AuthorizedDescribeCluster(K.DescribeClusterRequest request, KafkaPrincipal who) =>
        ClusterRefusal(who, AclOperation.Describe) is { } refusal
            ? Task.FromResult<IKafkaMessage?>(new K.DescribeClusterResponse { ErrorCode = KafkaErrors.ClusterAuthorizationFailed, ErrorMessage = refusal })
            : DescribeClusterAsync(request);

    /// <summary>InitProducerId without a transactional id: IdempotentWrite on the cluster, or Write on some topic (Kafka 2.8+).</summary>
    private Task<IKafkaMessage?> AuthorizedInitProducerId(K.InitProducerIdRequest request, KafkaPrincipal who)
    {
        var allowed = Allowed(who, AclOperation.IdempotentWrite, ResourceType.Cluster, AclBinding.ClusterName)
            || Security!.Authorizer.AuthorizeAny(who.Name, who.Host, AclOperation.Write, ResourceType.Topic);
        return allowed ? InitProducerIdAsync(request)
            : Task.FromResult<IKafkaMessage?>(new K.InitProducerIdResponse { ErrorCode = KafkaErrors.ClusterAuthorizationFailed, ProducerId = -1, ProducerEpoch = -1 });
    }

    /// <summary>
    /// The APIs without a finer check yet need the cluster resource: Describe to read (DescribeConfigs,
    /// ListPartitionReassignments, DescribeProducers), Alter to change (DeleteGroups,
    /// OffsetDelete, IncrementalAlterConfigs, CreatePartitions, ElectLeaders, AlterPartitionReassignments, DeleteRecords).
    /// Stricter than Kafka, which checks these per topic or group; a refusal closes the connection (logged, naming the ACL).
    /// </summary>
    private void RequireCluster(short apiKey, KafkaPrincipal who)
    {
        if (!Checks) return;
        var operation = apiKey switch
        {
            K.DescribeConfigsRequest.Api or K.ListPartitionReassignmentsRequest.Api or K.DescribeProducersRequest.Api => AclOperation.Describe,
            _ => AclOperation.Alter,
        };
        if (!Allowed(who, operation, ResourceType.Cluster, AclBinding.ClusterName))
            throw new KafkaProtocolException($"CLUSTER_AUTHORIZATION_FAILED: {Refusal(who, operation, ResourceType.Cluster, AclBinding.ClusterName)}");
    }
}
