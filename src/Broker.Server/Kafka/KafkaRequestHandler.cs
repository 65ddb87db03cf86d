using Akka.Actor;
using Akka.Event;
using Broker.Kafka;
using Broker.Protocol;
using Broker.Protocol.Messages;
using K = Broker.Kafka.Messages;

namespace Broker.Server.Kafka;

/// <summary>
/// Turns decoded Kafka requests into the broker's own requests, asks the gateway (which routes them to
/// partitions and the topic registry exactly as for the native client), and turns the replies into Kafka
/// responses. No partition, topic or group logic lives here: only translation, and the two Kafka rules the
/// gateway does not know (a fetch over several partitions waits until any has data; metadata lists the
/// nodes' Kafka addresses).
/// </summary>
internal sealed partial class KafkaRequestHandler
{
    private const string ClusterId = "broker";
    private readonly IActorRef _gateway;
    private readonly BrokerSettings _settings;
    private readonly ILoggingAdapter _log;
    private readonly int _nodeId;
    private readonly string _advertisedHost;
    private readonly int _advertisedPort;
    private readonly TopicIds _topicIds = new();
    private readonly FetchSessionCache _fetchSessions;
    private readonly ILeaderElector _leaderElector;
    private readonly KafkaSettings _kafka;

    public KafkaRequestHandler(IActorRef gateway, BrokerSettings settings, KafkaSettings kafka, int nodeId, string advertisedHost, int advertisedPort,
        FetchSessionCache fetchSessions, ILeaderElector leaderElector, ILoggingAdapter log)
    {
        _kafka = kafka;
        _fetchSessions = fetchSessions;
        _leaderElector = leaderElector;
        _gateway = gateway;
        _settings = settings;
        _nodeId = nodeId;
        _advertisedHost = advertisedHost;
        _advertisedPort = advertisedPort;
        _log = log;
    }

    /// <summary>The gateway answers within its own request timeout; this only guards against a reply that never comes.</summary>
    private TimeSpan AskTimeout => _settings.RequestTimeout + TimeSpan.FromSeconds(5);

    /// <summary>
    /// Reads the request body now (a malformed one throws <see cref="KafkaProtocolException"/> and closes the
    /// connection) and returns its response to come; null for a produce with acks=0.
    /// </summary>
    public Task<IKafkaMessage?> Handle(K.RequestHeader header, ref KafkaReader body, ParkedFetches parked, KafkaPrincipal who)
    {
        var version = header.RequestApiVersion;
        switch (header.RequestApiKey)
        {
            case K.CreateAclsRequest.Api:
                return CreateAclsAsync(K.CreateAclsRequest.Read(ref body, version), who);
            case K.DescribeAclsRequest.Api:
                return DescribeAclsAsync(K.DescribeAclsRequest.Read(ref body, version), who);
            case K.DeleteAclsRequest.Api:
                return DeleteAclsAsync(K.DeleteAclsRequest.Read(ref body, version), who);
            case K.AlterUserScramCredentialsRequest.Api:
                return AlterUserScramCredentialsAsync(K.AlterUserScramCredentialsRequest.Read(ref body, version), who);
            case K.DescribeUserScramCredentialsRequest.Api:
                return DescribeUserScramCredentialsAsync(K.DescribeUserScramCredentialsRequest.Read(ref body, version), who);
            default:
                return Checks ? HandleAuthorized(header, ref body, parked, who) : Dispatch(header, ref body, parked);
        }
    }

    /// <summary>The request's handler, with no ACL check (authorization off, or passed).</summary>
    private Task<IKafkaMessage?> Dispatch(K.RequestHeader header, ref KafkaReader body, ParkedFetches parked)
    {
        var version = header.RequestApiVersion;
        switch (header.RequestApiKey)
        {
            case K.ApiVersionsRequest.Api:
                K.ApiVersionsRequest.Read(ref body, version);
                return Task.FromResult<IKafkaMessage?>(ApiVersions());
            case K.MetadataRequest.Api:
                return MetadataAsync(K.MetadataRequest.Read(ref body, version), version);
            case K.ProduceRequest.Api:
                return Produce(K.ProduceRequest.Read(ref body, version), version);
            case K.FetchRequest.Api:
                return FetchAsync(K.FetchRequest.Read(ref body, version), version, parked);
            case K.ListOffsetsRequest.Api:
                return ListOffsetsAsync(K.ListOffsetsRequest.Read(ref body, version), version);
            case K.CreateTopicsRequest.Api:
                return CreateTopicsAsync(K.CreateTopicsRequest.Read(ref body, version), version);
            case K.DeleteTopicsRequest.Api:
                return DeleteTopicsAsync(K.DeleteTopicsRequest.Read(ref body, version), version);
            case K.InitProducerIdRequest.Api:
                return InitProducerIdAsync(K.InitProducerIdRequest.Read(ref body, version));
            case K.FindCoordinatorRequest.Api:
                return FindCoordinatorAsync(K.FindCoordinatorRequest.Read(ref body, version), version);
            case K.OffsetCommitRequest.Api:
                return OffsetCommitAsync(K.OffsetCommitRequest.Read(ref body, version));
            case K.OffsetFetchRequest.Api:
                return OffsetFetchAsync(K.OffsetFetchRequest.Read(ref body, version), version);
            case K.JoinGroupRequest.Api:
                return JoinGroupAsync(K.JoinGroupRequest.Read(ref body, version), header.ClientId ?? "");
            case K.SyncGroupRequest.Api:
                return SyncGroupAsync(K.SyncGroupRequest.Read(ref body, version));
            case K.HeartbeatRequest.Api:
                return HeartbeatAsync(K.HeartbeatRequest.Read(ref body, version));
            case K.LeaveGroupRequest.Api:
                return LeaveGroupAsync(K.LeaveGroupRequest.Read(ref body, version), version);
            case K.DescribeGroupsRequest.Api:
                return DescribeGroupsAsync(K.DescribeGroupsRequest.Read(ref body, version));
            case K.ListGroupsRequest.Api:
                return ListGroupsAsync(K.ListGroupsRequest.Read(ref body, version));
            case K.ConsumerGroupHeartbeatRequest.Api:
                return ConsumerGroupHeartbeatAsync(K.ConsumerGroupHeartbeatRequest.Read(ref body, version), header.ClientId ?? "");
            case K.ConsumerGroupDescribeRequest.Api:
                return ConsumerGroupDescribeAsync(K.ConsumerGroupDescribeRequest.Read(ref body, version));
            case K.DescribeConfigsRequest.Api:
                return DescribeConfigsAsync(K.DescribeConfigsRequest.Read(ref body, version), version);
            case K.OffsetForLeaderEpochRequest.Api:
                return OffsetForLeaderEpochAsync(K.OffsetForLeaderEpochRequest.Read(ref body, version));
            case K.DescribeProducersRequest.Api:
                return DescribeProducersAsync(K.DescribeProducersRequest.Read(ref body, version));
            case K.DeleteRecordsRequest.Api:
                return DeleteRecordsAsync(K.DeleteRecordsRequest.Read(ref body, version));
            case K.DeleteGroupsRequest.Api:
                return DeleteGroupsAsync(K.DeleteGroupsRequest.Read(ref body, version));
            case K.OffsetDeleteRequest.Api:
                return OffsetDeleteAsync(K.OffsetDeleteRequest.Read(ref body, version));
            case K.IncrementalAlterConfigsRequest.Api:
                return IncrementalAlterConfigsAsync(K.IncrementalAlterConfigsRequest.Read(ref body, version));
            case K.CreatePartitionsRequest.Api:
                return CreatePartitionsAsync(K.CreatePartitionsRequest.Read(ref body, version));
            case K.ElectLeadersRequest.Api:
                return ElectLeadersAsync(K.ElectLeadersRequest.Read(ref body, version), version);
            case K.DescribeClusterRequest.Api:
                return DescribeClusterAsync(K.DescribeClusterRequest.Read(ref body, version));
            case K.ListPartitionReassignmentsRequest.Api:
                return ListPartitionReassignmentsAsync(K.ListPartitionReassignmentsRequest.Read(ref body, version));
            case K.AlterPartitionReassignmentsRequest.Api:
                return AlterPartitionReassignmentsAsync(K.AlterPartitionReassignmentsRequest.Read(ref body, version));
            case K.SaslHandshakeRequest.Api:
                K.SaslHandshakeRequest.Read(ref body, version);
                // No SASL until the security work lands: a client configured for it learns so at once.
                return Task.FromResult<IKafkaMessage?>(new K.SaslHandshakeResponse { ErrorCode = KafkaErrors.UnsupportedSaslMechanism, Mechanisms = [] });
            case K.SaslAuthenticateRequest.Api:
                K.SaslAuthenticateRequest.Read(ref body, version);
                return Task.FromResult<IKafkaMessage?>(new K.SaslAuthenticateResponse
                {
                    ErrorCode = KafkaErrors.SaslAuthenticationFailed,
                    ErrorMessage = "this broker does not support SASL yet; connect without authentication",
                });
            default:
                throw new KafkaProtocolException($"API key {header.RequestApiKey} has no handler");
        }
    }

    /// <summary>As <see cref="Handle"/>, with every request checked against the ACLs first (KafkaRequestHandler.Authorization.cs).</summary>
    private Task<IKafkaMessage?> HandleAuthorized(K.RequestHeader header, ref KafkaReader body, ParkedFetches parked, KafkaPrincipal who)
    {
        var version = header.RequestApiVersion;
        switch (header.RequestApiKey)
        {
            case K.MetadataRequest.Api:
                return AuthorizedMetadata(K.MetadataRequest.Read(ref body, version), version, who);
            case K.ProduceRequest.Api:
                return AuthorizedProduce(K.ProduceRequest.Read(ref body, version), version, who);
            case K.FetchRequest.Api:
                return AuthorizedFetch(K.FetchRequest.Read(ref body, version), version, parked, who);
            case K.ListOffsetsRequest.Api:
                return AuthorizedListOffsets(K.ListOffsetsRequest.Read(ref body, version), version, who);
            case K.OffsetForLeaderEpochRequest.Api:
                return AuthorizedOffsetForLeaderEpoch(K.OffsetForLeaderEpochRequest.Read(ref body, version), who);
            case K.CreateTopicsRequest.Api:
                return AuthorizedCreateTopics(K.CreateTopicsRequest.Read(ref body, version), version, who);
            case K.DeleteTopicsRequest.Api:
                return AuthorizedDeleteTopics(K.DeleteTopicsRequest.Read(ref body, version), version, who);
            case K.InitProducerIdRequest.Api:
                return AuthorizedInitProducerId(K.InitProducerIdRequest.Read(ref body, version), who);
            case K.FindCoordinatorRequest.Api:
                return AuthorizedFindCoordinatorAsync(K.FindCoordinatorRequest.Read(ref body, version), version, who);
            case K.OffsetCommitRequest.Api:
                return AuthorizedOffsetCommit(K.OffsetCommitRequest.Read(ref body, version), who);
            case K.OffsetFetchRequest.Api:
                return AuthorizedOffsetFetch(K.OffsetFetchRequest.Read(ref body, version), version, who);
            case K.JoinGroupRequest.Api:
            {
                var join = K.JoinGroupRequest.Read(ref body, version);
                var clientId = header.ClientId ?? "";
                return ForGroup(join.GroupId, who, () => JoinGroupAsync(join, clientId),
                    () => new K.JoinGroupResponse { ErrorCode = KafkaErrors.GroupAuthorizationFailed, GenerationId = -1, MemberId = join.MemberId });
            }
            case K.SyncGroupRequest.Api:
            {
                var sync = K.SyncGroupRequest.Read(ref body, version);
                return ForGroup(sync.GroupId, who, () => SyncGroupAsync(sync), () => new K.SyncGroupResponse { ErrorCode = KafkaErrors.GroupAuthorizationFailed });
            }
            case K.HeartbeatRequest.Api:
            {
                var heartbeat = K.HeartbeatRequest.Read(ref body, version);
                return ForGroup(heartbeat.GroupId, who, () => HeartbeatAsync(heartbeat), () => new K.HeartbeatResponse { ErrorCode = KafkaErrors.GroupAuthorizationFailed });
            }
            case K.LeaveGroupRequest.Api:
            {
                var leave = K.LeaveGroupRequest.Read(ref body, version);
                return ForGroup(leave.GroupId, who, () => LeaveGroupAsync(leave, version), () => new K.LeaveGroupResponse { ErrorCode = KafkaErrors.GroupAuthorizationFailed });
            }
            case K.ConsumerGroupHeartbeatRequest.Api:
            {
                var heartbeat = K.ConsumerGroupHeartbeatRequest.Read(ref body, version);
                var clientId = header.ClientId ?? "";
                return ForGroup(heartbeat.GroupId, who, () => ConsumerGroupHeartbeatAsync(heartbeat, clientId),
                    () => new K.ConsumerGroupHeartbeatResponse { ErrorCode = KafkaErrors.GroupAuthorizationFailed, MemberId = heartbeat.MemberId, MemberEpoch = heartbeat.MemberEpoch });
            }
            case K.ConsumerGroupDescribeRequest.Api:
                return AuthorizedConsumerGroupDescribe(K.ConsumerGroupDescribeRequest.Read(ref body, version), who);
            case K.ListGroupsRequest.Api:
                return AuthorizedListGroups(K.ListGroupsRequest.Read(ref body, version), who);
            case K.DescribeGroupsRequest.Api:
                return AuthorizedDescribeGroups(K.DescribeGroupsRequest.Read(ref body, version), who);
            case K.DescribeClusterRequest.Api:
                return AuthorizedDescribeCluster(K.DescribeClusterRequest.Read(ref body, version), who);
            case K.ApiVersionsRequest.Api or K.SaslHandshakeRequest.Api or K.SaslAuthenticateRequest.Api:
                return Dispatch(header, ref body, parked);
            default:
                RequireCluster(header.RequestApiKey, who);
                return Dispatch(header, ref body, parked);
        }
    }

    private Task<IBrokerResponse> AskAsync(IBrokerRequest request, TimeSpan timeout) => AskAsync(request, request, timeout, group: null);

    /// <summary>
    /// A group request: served only on the node that runs the group's coordinator (elsewhere NOT_COORDINATOR at once, as
    /// in Kafka: <see cref="Groups.CoordinatorPlacement"/>), waited for as <see cref="CoordinatorWait"/> says, and no
    /// answer in time is NOT_COORDINATOR.
    /// </summary>
    private Task<IBrokerResponse> AskCoordinatorAsync<T>(T request) where T : IBrokerRequest, IGroupMessage =>
        AskAsync(new Gateway.AtCoordinatorOnly(request), request, CoordinatorWait.For(request, _kafka.GroupRequestTimeout, AskTimeout), request);

    private async Task<IBrokerResponse> AskAsync(object message, IBrokerRequest request, TimeSpan timeout, IGroupMessage? group)
    {
        try
        {
            var reply = await _gateway.Ask<object>(message, timeout).ConfigureAwait(false);
            return reply as IBrokerResponse ?? new ErrorResponse(ErrorCode.Unknown, $"unexpected reply {reply.GetType().Name}");
        }
        catch (AskTimeoutException)
        {
            _log.Warning("kafka: the gateway did not answer {0} within {1}", request.GetType().Name, timeout);
            return group is null
                ? new ErrorResponse(ErrorCode.RequestTimedOut, $"no answer within {timeout.TotalSeconds:0} s")
                : CoordinatorWait.NoAnswer(group, timeout);
        }
        catch (Exception ex)
        {
            // A failure piped back by the gateway (Status.Failure): this request fails, the connection goes on.
            _log.Warning("kafka: {0} failed: {1}", request.GetType().Name, ex.Message);
            return new ErrorResponse(ErrorCode.Unknown, ex.Message);
        }
    }

    // ---- ApiVersions

    private static K.ApiVersionsResponse ApiVersions()
    {
        var keys = new List<K.ApiVersionsResponse.ApiVersion>(KafkaApis.All.Count);
        foreach (var api in KafkaApis.All)
            keys.Add(new K.ApiVersionsResponse.ApiVersion { ApiKey = api.Key, MinVersion = api.MinAdvertised, MaxVersion = api.MaxAdvertised });
        return new K.ApiVersionsResponse { ErrorCode = KafkaErrors.None, ApiKeys = keys };
    }

    /// <summary>KIP-511: an ApiVersions request at a version we do not know gets a v0 answer with error 35 and our ApiVersions range.</summary>
    public static K.ApiVersionsResponse UnsupportedApiVersions(KafkaApi api) => new()
    {
        ErrorCode = KafkaErrors.UnsupportedVersion,
        ApiKeys = [new K.ApiVersionsResponse.ApiVersion { ApiKey = api.Key, MinVersion = api.MinAdvertised, MaxVersion = api.MaxAdvertised }],
    };
}
