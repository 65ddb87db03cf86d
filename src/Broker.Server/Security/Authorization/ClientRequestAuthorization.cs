using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Server.Security.Authorization;

/// <summary>What the native client door does with one request: forward it (perhaps narrowed), or answer it with a refusal.</summary>
public abstract record ClientDecision
{
    private ClientDecision()
    {
    }

    /// <summary>
    /// Send <paramref name="Request"/> to the gateway (the original, or only the part the principal may perform);
    /// <paramref name="Complete"/>, when set, turns the gateway's answer into the client's (adding what was refused,
    /// leaving out what the principal may not see).
    /// </summary>
    public sealed record Forward(IBrokerRequest Request, Func<object, object>? Complete = null) : ClientDecision;

    /// <summary>Answer <paramref name="Response"/> without asking the gateway.</summary>
    public sealed record Refuse(IBrokerResponse Response) : ClientDecision;
}

/// <summary>
/// Kafka's ACLs applied to the native protocol's requests, for one principal at one host: the same
/// <see cref="Authorizer"/> and the same operations per request as the Kafka listener (docs/security.md's table),
/// answered with the native typed errors (TopicAuthorizationFailed, GroupAuthorizationFailed,
/// ClusterAuthorizationFailed). A request over several topics is narrowed to the allowed ones and the refused ones
/// are answered beside their results, as Kafka does. Pure: no actor, no I/O.
/// </summary>
public sealed class ClientRequestAuthorization(Authorizer authorizer, string principal, string host)
{
    public string Principal => principal;

    public ClientDecision Decide(IBrokerRequest request) => request switch
    {
        ProduceRequest p => Produce(p),
        FetchRequest f => Allowed(AclOperation.Read, ResourceType.Topic, f.Topic) ? Pass(f)
            : Refuse(new FetchResponse(f.Topic, f.Partition, ErrorCode.TopicAuthorizationFailed, Refusal(AclOperation.Read, ResourceType.Topic, f.Topic), -1, -1, ReadOnlyMemory<byte>.Empty)),
        ListOffsetsRequest l => Allowed(AclOperation.Describe, ResourceType.Topic, l.Topic) ? Pass(l)
            : Refuse(new ListOffsetsResponse(l.Topic, l.Partition, ErrorCode.TopicAuthorizationFailed, Refusal(AclOperation.Describe, ResourceType.Topic, l.Topic), -1, -1)),
        OffsetForLeaderEpochRequest o => Allowed(AclOperation.Describe, ResourceType.Topic, o.Topic) ? Pass(o)
            : Refuse(new OffsetForLeaderEpochResponse(o.Topic, o.Partition, ErrorCode.TopicAuthorizationFailed, Refusal(AclOperation.Describe, ResourceType.Topic, o.Topic), -1, -1)),
        DescribeProducersRequest d => Allowed(AclOperation.Read, ResourceType.Topic, d.Topic) ? Pass(d)
            : Refuse(new DescribeProducersResponse(d.Topic, d.Partition, ErrorCode.TopicAuthorizationFailed, Refusal(AclOperation.Read, ResourceType.Topic, d.Topic), [])),
        DeleteRecordsRequest d => Allowed(AclOperation.Delete, ResourceType.Topic, d.Topic) ? Pass(d)
            : Refuse(new DeleteRecordsResponse(d.Topic, d.Partition, ErrorCode.TopicAuthorizationFailed, Refusal(AclOperation.Delete, ResourceType.Topic, d.Topic), -1)),
        MetadataRequest m => Metadata(m),
        CreateTopicsRequest c => PerTopic(c.Topics, t => t.Name, AclOperation.Create, kept => new CreateTopicsRequest(kept), r => ((CreateTopicsResponse)r).Results,
            results => new CreateTopicsResponse(results), clusterWide: true),
        DeleteTopicsRequest d => PerTopic(d.Topics, t => t, AclOperation.Delete, kept => new DeleteTopicsRequest(kept), r => ((DeleteTopicsResponse)r).Results,
            results => new DeleteTopicsResponse(results)),
        AlterTopicConfigsRequest a => PerTopic(a.Topics, t => t.Topic, AclOperation.AlterConfigs, kept => a with { Topics = kept }, r => ((AlterTopicConfigsResponse)r).Results,
            results => new AlterTopicConfigsResponse(results)),
        CreatePartitionsRequest c => PerTopic(c.Topics, t => t.Topic, AclOperation.Alter, kept => c with { Topics = kept }, r => ((CreatePartitionsResponse)r).Results,
            results => new CreatePartitionsResponse(results)),
        ReassignPartitionsRequest r => Allowed(AclOperation.Alter, ResourceType.Cluster, AclBinding.ClusterName) ? Pass(r)
            : Refuse(new ReassignPartitionsResponse([.. r.Partitions.Select(p => new ReassignmentResult(p.Topic, p.Partition, ErrorCode.ClusterAuthorizationFailed, ClusterRefusal(AclOperation.Alter)))])),
        ClusterStatusRequest s => Allowed(AclOperation.Describe, ResourceType.Cluster, AclBinding.ClusterName) ? Pass(s)
            : Refuse(new ErrorResponse(ErrorCode.ClusterAuthorizationFailed, ClusterRefusal(AclOperation.Describe))),
        InitProducerIdRequest i => Allowed(AclOperation.IdempotentWrite, ResourceType.Cluster, AclBinding.ClusterName)
            || authorizer.AuthorizeAny(principal, host, AclOperation.Write, ResourceType.Topic) ? Pass(i)
            : Refuse(new InitProducerIdResponse(ErrorCode.ClusterAuthorizationFailed,
                $"{principal} may not be an idempotent producer: it needs Write on some topic, or IdempotentWrite on the cluster (`broker acls add --allow {principal} --operation IdempotentWrite --cluster`)", -1, -1)),
        OffsetCommitRequest c => OffsetCommit(c),
        OffsetFetchRequest f => Group(f, AclOperation.Describe),
        DescribeGroupRequest d => Group(d, AclOperation.Describe),
        DeleteGroupRequest d => Group(d, AclOperation.Delete),
        DeleteGroupOffsetsRequest d => Group(d, AclOperation.Delete),
        IGroupMessage g => Group((IBrokerRequest)g, AclOperation.Read), // JoinGroup, SyncGroup, Heartbeat, LeaveGroup
        ListGroupsRequest l => new ClientDecision.Forward(l, r => r is ListGroupsResponse list
            ? list with { Groups = [.. list.Groups.Where(g => Allowed(AclOperation.Describe, ResourceType.Group, g.GroupId))] }
            : r),
        _ => Refuse(new ErrorResponse(ErrorCode.InvalidRequest, $"{request.GetType().Name} is not served on the client door")),
    };

    /// <summary>The refusal's text: what is missing and the command that grants it (the Kafka listener says the same).</summary>
    public static string Refusal(string principal, AclOperation operation, ResourceType type, string name) =>
        $"{principal} is not allowed to {operation} {type} '{name}'; grant it with `broker acls add --allow {principal} --operation {operation} {(type == ResourceType.Cluster ? "--cluster" : $"--{type.ToString().ToLowerInvariant()} {name}")}`";

    private bool Allowed(AclOperation operation, ResourceType type, string name) => authorizer.Authorize(principal, host, operation, type, name);

    private string Refusal(AclOperation operation, ResourceType type, string name) => Refusal(principal, operation, type, name);

    private string ClusterRefusal(AclOperation operation) => Refusal(operation, ResourceType.Cluster, AclBinding.ClusterName);

    private static ClientDecision.Forward Pass(IBrokerRequest request) => new(request);

    private static ClientDecision.Refuse Refuse(IBrokerResponse response) => new(response);

    /// <summary>Write on each topic; a batch for a topic without it is answered TopicAuthorizationFailed beside the others' results.</summary>
    private ClientDecision Produce(ProduceRequest request)
    {
        List<ProducePartitionData>? kept = null;
        List<ProducePartitionResult>? refused = null;
        for (var i = 0; i < request.Partitions.Count; i++)
        {
            var part = request.Partitions[i];
            if (Allowed(AclOperation.Write, ResourceType.Topic, part.Topic))
            {
                (kept ??= new List<ProducePartitionData>(request.Partitions.Count)).Add(part);
                continue;
            }
            (refused ??= []).Add(new ProducePartitionResult(part.Topic, part.Partition, ErrorCode.TopicAuthorizationFailed, Refusal(AclOperation.Write, ResourceType.Topic, part.Topic), -1));
        }
        if (refused is null) return Pass(request);
        if (kept is null) return Refuse(new ProduceResponse(refused));
        return new ClientDecision.Forward(new ProduceRequest(request.Acks, request.TimeoutMs, kept),
            r => r is ProduceResponse answer ? new ProduceResponse([.. answer.Results, .. refused]) : r);
    }

    /// <summary>Describe on each topic: a listing of all leaves out the others; a named one is answered TopicAuthorizationFailed.</summary>
    private ClientDecision.Forward Metadata(MetadataRequest request)
    {
        if (request.Topics is null)
        {
            return new ClientDecision.Forward(request, r => r is MetadataResponse answer
                ? answer with { Topics = [.. answer.Topics.Where(t => Allowed(AclOperation.Describe, ResourceType.Topic, t.Name))] }
                : r);
        }
        var kept = request.Topics.Where(t => Allowed(AclOperation.Describe, ResourceType.Topic, t)).ToList();
        if (kept.Count == request.Topics.Count) return Pass(request);
        var refused = request.Topics.Where(t => !kept.Contains(t))
            .Select(t => new TopicMetadata(t, "", ErrorCode.TopicAuthorizationFailed, Refusal(AclOperation.Describe, ResourceType.Topic, t), 0, new Dictionary<string, string>(), []))
            .ToList();
        // Every topic refused: still ask (with none named would mean all), but for the brokers only.
        return new ClientDecision.Forward(new MetadataRequest(kept), r => r is MetadataResponse answer
            ? answer with { Topics = [.. answer.Topics.Where(t => kept.Contains(t.Name)), .. refused] }
            : r);
    }

    /// <summary>
    /// A request over several topics: the ones the principal may <paramref name="operation"/> go on, the others are
    /// answered TopicAuthorizationFailed; with <paramref name="clusterWide"/>, the operation on the cluster allows every topic (Create).
    /// </summary>
    private ClientDecision PerTopic<T>(IReadOnlyList<T> topics, Func<T, string> name, AclOperation operation, Func<List<T>, IBrokerRequest> narrowed,
        Func<object, IReadOnlyList<TopicResult>> results, Func<List<TopicResult>, IBrokerResponse> response, bool clusterWide = false)
    {
        if (clusterWide && Allowed(operation, ResourceType.Cluster, AclBinding.ClusterName)) return Pass(narrowed([.. topics]));
        var kept = new List<T>(topics.Count);
        var refused = new List<TopicResult>();
        foreach (var topic in topics)
        {
            if (Allowed(operation, ResourceType.Topic, name(topic))) kept.Add(topic);
            else refused.Add(new TopicResult(name(topic), ErrorCode.TopicAuthorizationFailed, Refusal(operation, ResourceType.Topic, name(topic))));
        }
        if (refused.Count == 0) return Pass(narrowed(kept));
        if (kept.Count == 0) return Refuse(response(refused));
        return new ClientDecision.Forward(narrowed(kept), r => r is IBrokerResponse { Error: ErrorCode.None } ? response([.. results(r), .. refused]) : r);
    }

    private ClientDecision Group(IBrokerRequest request, AclOperation operation)
    {
        var group = ((IGroupMessage)request).GroupId;
        return Allowed(operation, ResourceType.Group, group) ? Pass(request)
            : Refuse(new ErrorResponse(ErrorCode.GroupAuthorizationFailed, Refusal(operation, ResourceType.Group, group)));
    }

    /// <summary>Read on the group, and Read on each topic committed (a topic without it is answered TopicAuthorizationFailed beside the others).</summary>
    private ClientDecision OffsetCommit(OffsetCommitRequest request)
    {
        if (!Allowed(AclOperation.Read, ResourceType.Group, request.GroupId))
            return Refuse(new OffsetCommitResponse(ErrorCode.GroupAuthorizationFailed, Refusal(AclOperation.Read, ResourceType.Group, request.GroupId), []));
        var kept = new List<OffsetCommitPartition>(request.Offsets.Count);
        var refused = new List<OffsetCommitPartitionResult>();
        foreach (var offset in request.Offsets)
        {
            if (Allowed(AclOperation.Read, ResourceType.Topic, offset.Topic)) kept.Add(offset);
            else refused.Add(new OffsetCommitPartitionResult(offset.Topic, offset.Partition, ErrorCode.TopicAuthorizationFailed, Refusal(AclOperation.Read, ResourceType.Topic, offset.Topic)));
        }
        if (refused.Count == 0) return Pass(request);
        if (kept.Count == 0) return Refuse(new OffsetCommitResponse(ErrorCode.None, null, refused));
        return new ClientDecision.Forward(request with { Offsets = kept },
            r => r is OffsetCommitResponse answer ? answer with { Results = [.. answer.Results, .. refused] } : r);
    }
}
