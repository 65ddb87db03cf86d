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
internal sealed class KafkaRequestHandler
{
    private const string ClusterId = "broker";
    private readonly IActorRef _gateway;
    private readonly BrokerSettings _settings;
    private readonly ILoggingAdapter _log;
    private readonly int _nodeId;
    private readonly string _advertisedHost;
    private readonly int _advertisedPort;

    public KafkaRequestHandler(IActorRef gateway, BrokerSettings settings, int nodeId, string advertisedHost, int advertisedPort, ILoggingAdapter log)
    {
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
    public Task<IKafkaMessage?> Handle(K.RequestHeader header, ref KafkaReader body, ParkedFetches parked)
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
                return FetchAsync(K.FetchRequest.Read(ref body, version), parked);
            case K.ListOffsetsRequest.Api:
                return ListOffsetsAsync(K.ListOffsetsRequest.Read(ref body, version));
            case K.CreateTopicsRequest.Api:
                return CreateTopicsAsync(K.CreateTopicsRequest.Read(ref body, version));
            case K.DeleteTopicsRequest.Api:
                return DeleteTopicsAsync(K.DeleteTopicsRequest.Read(ref body, version));
            case K.FindCoordinatorRequest.Api:
                return Task.FromResult<IKafkaMessage?>(FindCoordinator(K.FindCoordinatorRequest.Read(ref body, version)));
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
                K.ListGroupsRequest.Read(ref body, version);
                return ListGroupsAsync();
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

    private async Task<IBrokerResponse> AskAsync(IBrokerRequest request, TimeSpan timeout)
    {
        try
        {
            var reply = await _gateway.Ask<object>(request, timeout).ConfigureAwait(false);
            return reply as IBrokerResponse ?? new ErrorResponse(ErrorCode.Unknown, $"unexpected reply {reply.GetType().Name}");
        }
        catch (AskTimeoutException)
        {
            _log.Warning("kafka: the gateway did not answer {0} within {1}", request.GetType().Name, timeout);
            return new ErrorResponse(ErrorCode.RequestTimedOut, $"no answer within {timeout.TotalSeconds:0} s");
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

    // ---- Metadata

    private async Task<IKafkaMessage?> MetadataAsync(K.MetadataRequest request, short version)
    {
        List<string>? names = null;
        if (request.Topics is { } topics && (version > 0 || topics.Count > 0)) // v0: an empty list means every topic
        {
            names = new List<string>(topics.Count);
            foreach (var t in topics) names.Add(t.Name ?? "");
        }
        var response = new K.MetadataResponse { ClusterId = ClusterId, ControllerId = _nodeId };
        var reply = await AskAsync(new MetadataRequest(names), AskTimeout).ConfigureAwait(false);
        if (reply is not MetadataResponse metadata)
        {
            var failed = new List<K.MetadataResponse.MetadataResponseTopic>();
            foreach (var name in names ?? []) failed.Add(new() { Name = name, ErrorCode = KafkaErrors.From(reply.Error) });
            response.Topics = failed;
            return response;
        }

        var brokers = new List<K.MetadataResponse.MetadataResponseBroker>();
        foreach (var b in metadata.Brokers)
        {
            if (b.NodeId < 0 || KafkaEndpoint.Parse(b.Roles) is not { } endpoint) continue;
            brokers.Add(new() { NodeId = b.NodeId, Host = endpoint.Host, Port = endpoint.Port, Rack = null });
        }
        response.Brokers = brokers;

        var topicsOut = new List<K.MetadataResponse.MetadataResponseTopic>(metadata.Topics.Count);
        foreach (var t in metadata.Topics)
        {
            var partitions = new List<K.MetadataResponse.MetadataResponsePartition>(t.Partitions.Count);
            foreach (var p in t.Partitions)
            {
                partitions.Add(new()
                {
                    ErrorCode = PartitionMetadataError(p),
                    PartitionIndex = p.Partition,
                    LeaderId = p.LeaderId,
                    LeaderEpoch = p.LeaderEpoch,
                    ReplicaNodes = p.Replicas,
                    IsrNodes = p.Isr,
                    OfflineReplicas = p.OfflineReplicas,
                });
            }
            topicsOut.Add(new()
            {
                ErrorCode = KafkaErrors.From(t.Error),
                Name = t.Name,
                TopicId = Guid.TryParse(t.TopicId, out var id) ? id : Guid.Empty,
                IsInternal = false,
                Partitions = partitions,
            });
        }
        response.Topics = topicsOut;
        return response;
    }

    /// <summary>A partition whose leader did not answer the offsets query still has a leader in the metadata store; one without a leader is LEADER_NOT_AVAILABLE, which clients retry.</summary>
    private static short PartitionMetadataError(PartitionMetadata p) => p.Error switch
    {
        ErrorCode.None => p.LeaderId < 0 ? KafkaErrors.LeaderNotAvailable : KafkaErrors.None,
        ErrorCode.RequestTimedOut => KafkaErrors.LeaderNotAvailable,
        _ => KafkaErrors.From(p.Error),
    };

    // ---- Produce

    private Task<IKafkaMessage?> Produce(K.ProduceRequest request, short version)
    {
        var parts = new List<ProducePartitionData>();
        foreach (var topic in request.TopicData)
            foreach (var p in topic.PartitionData)
                parts.Add(new ProducePartitionData(topic.Name, p.Index, p.Records));

        if (request.Acks is not (-1 or 0 or 1))
        {
            var invalid = new ProducePartitionResult[parts.Count];
            for (var i = 0; i < parts.Count; i++)
                invalid[i] = new ProducePartitionResult(parts[i].Topic, parts[i].Partition, ErrorCode.InvalidRequest, $"acks must be -1 (all), 0 or 1, got {request.Acks}", -1);
            return Task.FromResult<IKafkaMessage?>(ProduceResponse(request, invalid, KafkaErrors.InvalidRequiredAcks));
        }
        if (version < 3)
        {
            // Message format v0/v1 (magic 0 and 1): the log stores RecordBatch v2 only.
            if (request.Acks == 0) return Task.FromResult<IKafkaMessage?>(null);
            var refused = new ProducePartitionResult[parts.Count];
            for (var i = 0; i < parts.Count; i++)
                refused[i] = new ProducePartitionResult(parts[i].Topic, parts[i].Partition, ErrorCode.Unknown, "Produce v0-2 (message format v0/v1) is not supported; use a client that sends Produce v3 or later", -1);
            return Task.FromResult<IKafkaMessage?>(ProduceResponse(request, refused, KafkaErrors.UnsupportedVersion));
        }

        var produce = new ProduceRequest(request.Acks, request.TimeoutMs, parts);
        if (request.Acks == 0)
        {
            _gateway.Tell(produce, ActorRefs.NoSender);
            return Task.FromResult<IKafkaMessage?>(null);
        }
        return ProduceAsync(request, produce);
    }

    private async Task<IKafkaMessage?> ProduceAsync(K.ProduceRequest request, ProduceRequest produce)
    {
        var timeout = TimeSpan.FromMilliseconds(Math.Max(0, request.TimeoutMs)) + AskTimeout;
        var reply = await AskAsync(produce, timeout).ConfigureAwait(false);
        var parts = produce.Partitions;
        IReadOnlyList<ProducePartitionResult> results;
        if (reply is ProduceResponse r && r.Results.Count == parts.Count)
        {
            results = r.Results;
        }
        else
        {
            var failed = new ProducePartitionResult[parts.Count];
            for (var i = 0; i < parts.Count; i++)
                failed[i] = new ProducePartitionResult(parts[i].Topic, parts[i].Partition, reply.Error == ErrorCode.None ? ErrorCode.Unknown : reply.Error, reply.ErrorMessage, -1);
            results = failed;
        }
        return ProduceResponse(request, results, overrideError: null);
    }

    /// <summary>The response in the request's topic and partition order; <paramref name="results"/> follow that order.</summary>
    private static K.ProduceResponse ProduceResponse(K.ProduceRequest request, IReadOnlyList<ProducePartitionResult> results, short? overrideError)
    {
        var topics = new List<K.ProduceResponse.TopicProduceResponse>(request.TopicData.Count);
        var i = 0;
        foreach (var topic in request.TopicData)
        {
            var partitions = new List<K.ProduceResponse.PartitionProduceResponse>(topic.PartitionData.Count);
            foreach (var p in topic.PartitionData)
            {
                var result = results[i++];
                partitions.Add(new()
                {
                    Index = p.Index,
                    ErrorCode = overrideError ?? KafkaErrors.From(result.Error),
                    BaseOffset = result.BaseOffset,
                    LogAppendTimeMs = -1,
                    LogStartOffset = -1,
                    ErrorMessage = result.Error == ErrorCode.None ? null : result.ErrorMessage,
                });
            }
            topics.Add(new() { Name = topic.Name, PartitionResponses = partitions });
        }
        return new K.ProduceResponse { Responses = topics };
    }

    // ---- Fetch

    /// <summary>
    /// Asks every partition for what it has now; if that is less than min_bytes (and no partition has an error),
    /// asks again with the request's max_wait_ms and answers as soon as enough has arrived (Kafka's delayed
    /// fetch). Whole batches only, at least one even if larger than the limits (KIP-74). No fetch sessions:
    /// session id 0 tells the client to send full fetches (KIP-227).
    /// </summary>
    private async Task<IKafkaMessage?> FetchAsync(K.FetchRequest request, ParkedFetches parked)
    {
        var wanted = new List<(string Topic, K.FetchRequest.FetchPartition Partition)>();
        foreach (var t in request.Topics)
            foreach (var p in t.Partitions)
                wanted.Add((t.Topic, p));
        var maxBytes = request.MaxBytes > 0 ? request.MaxBytes : int.MaxValue;
        var minBytes = Math.Max(1, request.MinBytes);

        var first = new Task<FetchResponse>[wanted.Count];
        for (var i = 0; i < wanted.Count; i++) first[i] = FetchOneAsync(wanted[i].Topic, wanted[i].Partition, maxBytes, 0, request.RackId);
        var results = await Task.WhenAll(first).ConfigureAwait(false);

        long bytes = 0;
        var anyError = false;
        foreach (var r in results)
        {
            bytes += r.Records.Length;
            anyError |= r.Error != ErrorCode.None;
        }
        if (bytes < minBytes && !anyError && request.MaxWaitMs > 0 && wanted.Count > 0)
        {
            // Waits this connection left parked at the same offsets are taken over rather than doubled (ParkedFetches).
            var keys = new (string, int, long)[wanted.Count];
            for (var i = 0; i < wanted.Count; i++) keys[i] = (wanted[i].Topic, wanted[i].Partition.Partition, wanted[i].Partition.FetchOffset);
            parked.Prune(keys);
            var waiting = new Dictionary<Task<FetchResponse>, int>(wanted.Count);
            for (var i = 0; i < wanted.Count; i++)
            {
                var (topic, p) = wanted[i];
                waiting[parked.GetOrPark(topic, p.Partition, p.FetchOffset, () => FetchOneAsync(topic, p, maxBytes, request.MaxWaitMs, request.RackId))] = i;
            }
            while (waiting.Count > 0 && bytes < minBytes)
            {
                var done = await Task.WhenAny(waiting.Keys).ConfigureAwait(false);
                var index = waiting[done];
                waiting.Remove(done);
                var r = await done.ConfigureAwait(false);
                parked.Used(wanted[index].Topic, wanted[index].Partition.Partition, wanted[index].Partition.FetchOffset);
                results[index] = r;
                bytes += r.Records.Length;
                if (r.Error != ErrorCode.None) break;
            }
        }

        var response = new K.FetchResponse { ErrorCode = KafkaErrors.None, SessionId = 0 };
        var topics = new List<K.FetchResponse.FetchableTopicResponse>(request.Topics.Count);
        var n = 0;
        long used = 0;
        foreach (var t in request.Topics)
        {
            var partitions = new List<K.FetchResponse.PartitionData>(t.Partitions.Count);
            foreach (var p in t.Partitions)
            {
                var r = results[n++];
                var records = r.Records;
                // The response's max_bytes: past it, later partitions come back empty and are fetched again next time.
                if (!records.IsEmpty && used > 0 && used + records.Length > maxBytes) records = ReadOnlyMemory<byte>.Empty;
                used += records.Length;
                partitions.Add(new()
                {
                    PartitionIndex = p.Partition,
                    ErrorCode = KafkaErrors.From(r.Error),
                    HighWatermark = r.HighWatermark,
                    LastStableOffset = r.HighWatermark,
                    LogStartOffset = r.LogStartOffset,
                    AbortedTransactions = null,
                    PreferredReadReplica = -1,
                    Records = records,
                });
            }
            topics.Add(new() { Topic = t.Topic, Partitions = partitions });
        }
        response.Responses = topics;
        return response;
    }

    private async Task<FetchResponse> FetchOneAsync(string topic, K.FetchRequest.FetchPartition p, int maxBytes, int maxWaitMs, string? rack)
    {
        var partitionMax = p.PartitionMaxBytes > 0 ? Math.Min(p.PartitionMaxBytes, maxBytes) : maxBytes;
        var fetch = new FetchRequest(topic, p.Partition, p.FetchOffset, partitionMax, maxWaitMs)
        {
            CurrentLeaderEpoch = p.CurrentLeaderEpoch, // v9+ (KIP-320); -1 before
            ClientRack = rack is { Length: > 0 } ? rack : null, // v11+: the gateway picks an in-sync replica in the client's rack (KIP-392)
        };
        var reply = await AskAsync(fetch, AskTimeout + TimeSpan.FromMilliseconds(maxWaitMs)).ConfigureAwait(false);
        return reply as FetchResponse ?? new FetchResponse(topic, p.Partition, reply.Error == ErrorCode.None ? ErrorCode.Unknown : reply.Error, reply.ErrorMessage, -1, -1, ReadOnlyMemory<byte>.Empty);
    }

    // ---- ListOffsets

    private async Task<IKafkaMessage?> ListOffsetsAsync(K.ListOffsetsRequest request)
    {
        var asks = new List<Task<IBrokerResponse>>();
        foreach (var t in request.Topics)
            foreach (var p in t.Partitions)
                asks.Add(AskAsync(new ListOffsetsRequest(t.Name, p.PartitionIndex, p.Timestamp), AskTimeout));
        var replies = await Task.WhenAll(asks).ConfigureAwait(false);

        var topics = new List<K.ListOffsetsResponse.ListOffsetsTopicResponse>(request.Topics.Count);
        var n = 0;
        foreach (var t in request.Topics)
        {
            var partitions = new List<K.ListOffsetsResponse.ListOffsetsPartitionResponse>(t.Partitions.Count);
            foreach (var p in t.Partitions)
            {
                var reply = replies[n++];
                var offsets = reply as ListOffsetsResponse;
                partitions.Add(new()
                {
                    PartitionIndex = p.PartitionIndex,
                    ErrorCode = KafkaErrors.From(offsets is null && reply.Error == ErrorCode.None ? ErrorCode.Unknown : reply.Error),
                    Timestamp = offsets?.Timestamp ?? -1,
                    Offset = offsets?.Offset ?? -1,
                    LeaderEpoch = -1,
                });
            }
            topics.Add(new() { Name = t.Name, Partitions = partitions });
        }
        return new K.ListOffsetsResponse { Topics = topics };
    }

    // ---- CreateTopics / DeleteTopics

    private async Task<IKafkaMessage?> CreateTopicsAsync(K.CreateTopicsRequest request)
    {
        var refused = new Dictionary<string, (short Error, string Message)>(StringComparer.Ordinal);
        var specs = new List<TopicSpec>();
        foreach (var t in request.Topics)
        {
            if (request.ValidateOnly)
                refused[t.Name] = (KafkaErrors.InvalidRequest, "validate_only is not supported yet: send the request without it");
            else if (t.Assignments.Count > 0)
                refused[t.Name] = (KafkaErrors.InvalidRequest, "manual replica assignment is not supported: give num_partitions and replication_factor, the broker places replicas");
            else
            {
                var configs = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var c in t.Configs)
                    if (c.Value is not null) configs[c.Name] = c.Value;
                // KIP-464: -1 asks for the broker's defaults (one partition, as Kafka's num.partitions; replication factor min(3, live nodes)).
                specs.Add(new TopicSpec(t.Name, t.NumPartitions == -1 ? 1 : t.NumPartitions, t.ReplicationFactor, configs));
            }
        }

        var created = new Dictionary<string, TopicResult>(StringComparer.Ordinal);
        if (specs.Count > 0)
        {
            var reply = await AskAsync(new CreateTopicsRequest(specs), AskTimeout).ConfigureAwait(false);
            if (reply is CreateTopicsResponse r)
                foreach (var result in r.Results) created[result.Name] = result;
            else
                foreach (var spec in specs) created[spec.Name] = new TopicResult(spec.Name, reply.Error, reply.ErrorMessage);
        }

        var results = new List<K.CreateTopicsResponse.CreatableTopicResult>(request.Topics.Count);
        foreach (var t in request.Topics)
        {
            if (refused.TryGetValue(t.Name, out var no))
                results.Add(new() { Name = t.Name, ErrorCode = no.Error, ErrorMessage = no.Message });
            else if (created.TryGetValue(t.Name, out var result))
                results.Add(new() { Name = t.Name, ErrorCode = KafkaErrors.From(result.Error), ErrorMessage = result.ErrorMessage });
            else
                results.Add(new() { Name = t.Name, ErrorCode = KafkaErrors.UnknownServerError, ErrorMessage = "the topic registry did not answer for this topic" });
        }
        return new K.CreateTopicsResponse { Topics = results };
    }

    private async Task<IKafkaMessage?> DeleteTopicsAsync(K.DeleteTopicsRequest request)
    {
        var reply = await AskAsync(new DeleteTopicsRequest(request.TopicNames), AskTimeout).ConfigureAwait(false);
        var byName = new Dictionary<string, TopicResult>(StringComparer.Ordinal);
        if (reply is DeleteTopicsResponse r)
            foreach (var result in r.Results) byName[result.Name] = result;
        var results = new List<K.DeleteTopicsResponse.DeletableTopicResult>(request.TopicNames.Count);
        foreach (var name in request.TopicNames)
        {
            var error = byName.TryGetValue(name, out var result) ? result.Error : reply.Error == ErrorCode.None ? ErrorCode.Unknown : reply.Error;
            results.Add(new() { Name = name, ErrorCode = KafkaErrors.From(error), ErrorMessage = result?.ErrorMessage ?? reply.ErrorMessage });
        }
        return new K.DeleteTopicsResponse { Responses = results };
    }

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
            foreach (var p in t.Partitions)
                offsets.Add(new OffsetCommitPartition(t.Name, p.PartitionIndex, p.CommittedOffset, p.CommittedMetadata));
        var reply = await AskAsync(new OffsetCommitRequest(request.GroupId, request.GenerationIdOrMemberEpoch, request.MemberId, offsets), AskTimeout).ConfigureAwait(false);

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
                foreach (var p in t.PartitionIndexes)
                    wanted.Add(new TopicPartition(t.Name, p));
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
