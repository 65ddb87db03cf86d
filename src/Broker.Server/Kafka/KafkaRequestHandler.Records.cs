using Akka.Actor;
using Akka.Event;
using Broker.Kafka;
using Broker.Protocol;
using Broker.Protocol.Messages;
using K = Broker.Kafka.Messages;

namespace Broker.Server.Kafka;

// Produce, Fetch and ListOffsets: the partitions' side of the listener.
internal sealed partial class KafkaRequestHandler
{
    // ---- Produce

    private Task<IKafkaMessage?> Produce(K.ProduceRequest request, short version)
    {
        var parts = new List<ProducePartitionData>();
        foreach (var topic in request.TopicData)
        {
            foreach (var p in topic.PartitionData)
                parts.Add(new ProducePartitionData(topic.Name, p.Index, p.Records));
        }

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
                    LogAppendTimeMs = result.LogAppendTime,
                    LogStartOffset = -1,
                    ErrorMessage = result.Error == ErrorCode.None ? null : result.ErrorMessage,
                    RecordErrors = RecordErrors(result.RecordErrors),
                });
            }
            topics.Add(new() { Name = topic.Name, PartitionResponses = partitions });
        }
        return new K.ProduceResponse { Responses = topics };
    }

    private static List<K.ProduceResponse.BatchIndexAndErrorMessage> RecordErrors(IReadOnlyList<RecordError>? errors)
    {
        var list = new List<K.ProduceResponse.BatchIndexAndErrorMessage>(errors?.Count ?? 0);
        if (errors is null) return list;
        foreach (var e in errors) list.Add(new() { BatchIndex = e.BatchIndex, BatchIndexErrorMessage = e.Message });
        return list;
    }

    // ---- InitProducerId

    /// <summary>An idempotent producer's id and epoch. Transactions are not supported: a transactional id is refused.</summary>
    private async Task<IKafkaMessage?> InitProducerIdAsync(K.InitProducerIdRequest request)
    {
        if (request.TransactionalId is not null)
            return new K.InitProducerIdResponse { ErrorCode = KafkaErrors.InvalidRequest, ProducerId = -1, ProducerEpoch = -1 };
        var reply = await AskAsync(new InitProducerIdRequest(), AskTimeout).ConfigureAwait(false);
        return reply is InitProducerIdResponse { Error: ErrorCode.None } granted
            ? new K.InitProducerIdResponse { ErrorCode = KafkaErrors.None, ProducerId = granted.ProducerId, ProducerEpoch = granted.ProducerEpoch }
            // Retriable for every client: it asks again after a back-off.
            : new K.InitProducerIdResponse { ErrorCode = KafkaErrors.CoordinatorNotAvailable, ProducerId = -1, ProducerEpoch = -1 };
    }

    // ---- Fetch

    /// <summary>
    /// Asks every partition for what it has now; if that is less than min_bytes (and no partition has an error),
    /// asks again with the request's max_wait_ms and answers as soon as enough has arrived (Kafka's delayed
    /// fetch). Whole batches only, at least one even if larger than the limits (KIP-74). From v7 the request's
    /// session id and epoch open, continue or close a fetch session (KIP-227, <see cref="FetchSessionCache"/>): an
    /// incremental fetch names only partitions whose position changed and is answered only with partitions that
    /// have something new.
    /// </summary>
    private async Task<IKafkaMessage?> FetchAsync(K.FetchRequest request, short version, ParkedFetches parked)
    {
        var byId = version >= 13;
        var requested = new List<RequestedPartition>();
        var unknownIds = new List<(Guid TopicId, int Partition)>(); // v13+: answered UNKNOWN_TOPIC_ID without asking a partition, and kept out of sessions
        foreach (var t in request.Topics)
        {
            var name = byId ? await TopicNameAsync(t.TopicId).ConfigureAwait(false) : t.Topic;
            foreach (var p in t.Partitions)
            {
                if (name is null) unknownIds.Add((t.TopicId, p.Partition));
                else requested.Add(new RequestedPartition(name, byId ? t.TopicId : Guid.Empty, p.Partition, p.FetchOffset, p.PartitionMaxBytes, p.CurrentLeaderEpoch));
            }
        }
        var forgotten = new List<ForgottenPartition>();
        foreach (var f in request.ForgottenTopicsData)
        {
            foreach (var partition in f.Partitions) forgotten.Add(new ForgottenPartition(byId ? null : f.Topic, byId ? f.TopicId : Guid.Empty, partition));
        }

        // Before v7 the fields do not exist and read as session 0, epoch -1: a sessionless full fetch.
        var context = _fetchSessions.Open(request.SessionId, request.SessionEpoch, requested, forgotten);
        if (context is FetchContext.Refused refused)
        {
            _log.Debug("kafka: fetch refused: {0}", refused.Message);
            return new K.FetchResponse { ErrorCode = refused.ErrorCode, SessionId = 0, Responses = [] };
        }
        var session = context switch
        {
            FetchContext.Full full => full.NewSession,
            FetchContext.Incremental incremental => incremental.Session,
            _ => null,
        };
        // An incremental fetch reads every partition of its session, in the session's order (requested ones were merged in).
        var wanted = context is FetchContext.Incremental ? SessionTargets(session!) : requested;

        var results = await FetchPartitionsAsync(wanted, request, parked).ConfigureAwait(false);

        var maxBytes = request.MaxBytes > 0 ? request.MaxBytes : int.MaxValue;
        var answered = new List<(RequestedPartition Target, K.FetchResponse.PartitionData Data)>(wanted.Count + unknownIds.Count);
        long used = 0;
        for (var i = 0; i < wanted.Count; i++)
        {
            var r = results[i];
            var records = r.Records;
            // The response's max_bytes: past it, later partitions come back empty and are fetched again next time.
            if (!records.IsEmpty && used > 0 && used + records.Length > maxBytes) records = ReadOnlyMemory<byte>.Empty;
            used += records.Length;
            var cached = session?.Find(wanted[i].Topic, wanted[i].Partition);
            if (context is FetchContext.Incremental && cached is not null
                && !cached.MustRespond(!records.IsEmpty, r.Error != ErrorCode.None, r.HighWatermark, r.LogStartOffset))
            {
                continue;
            }
            if (cached is not null)
            {
                cached.Sent(r.HighWatermark, r.LogStartOffset);
                if (!records.IsEmpty && context is FetchContext.Incremental) session!.MoveToEnd(cached);
            }
            answered.Add((wanted[i], new K.FetchResponse.PartitionData
            {
                PartitionIndex = wanted[i].Partition,
                ErrorCode = KafkaErrors.From(r.Error),
                HighWatermark = r.HighWatermark,
                LastStableOffset = r.HighWatermark,
                LogStartOffset = r.LogStartOffset,
                AbortedTransactions = null,
                PreferredReadReplica = -1,
                Records = records,
            }));
        }
        foreach (var (topicId, partition) in unknownIds)
        {
            answered.Add((new RequestedPartition("", topicId, partition, 0, 0, -1), new K.FetchResponse.PartitionData
            {
                PartitionIndex = partition, ErrorCode = KafkaErrors.UnknownTopicId, HighWatermark = -1, LastStableOffset = -1,
                LogStartOffset = -1, AbortedTransactions = null, PreferredReadReplica = -1, Records = ReadOnlyMemory<byte>.Empty,
            }));
        }
        return new K.FetchResponse { ErrorCode = KafkaErrors.None, SessionId = session?.Id ?? 0, Responses = GroupByTopic(answered) };
    }

    private static List<RequestedPartition> SessionTargets(FetchSession session)
    {
        var targets = new List<RequestedPartition>(session.Size);
        foreach (var p in session.Partitions)
            targets.Add(new RequestedPartition(p.Topic, p.TopicId, p.Partition, p.FetchOffset, p.PartitionMaxBytes, p.CurrentLeaderEpoch));
        return targets;
    }

    /// <summary>Consecutive partitions of one topic share a topic entry, named by name before v13 and by id from v13.</summary>
    private static List<K.FetchResponse.FetchableTopicResponse> GroupByTopic(List<(RequestedPartition Target, K.FetchResponse.PartitionData Data)> answered)
    {
        var topics = new List<K.FetchResponse.FetchableTopicResponse>();
        List<K.FetchResponse.PartitionData>? partitions = null;
        RequestedPartition previous = default;
        foreach (var (target, data) in answered)
        {
            if (partitions is null || previous.Topic != target.Topic || previous.TopicId != target.TopicId)
            {
                partitions = [];
                topics.Add(new K.FetchResponse.FetchableTopicResponse { Topic = target.Topic, TopicId = target.TopicId, Partitions = partitions });
            }
            partitions.Add(data);
            previous = target;
        }
        return topics;
    }

    /// <summary>Every partition's answer, in <paramref name="wanted"/>'s order, after the delayed-fetch wait for min_bytes.</summary>
    private async Task<FetchResponse[]> FetchPartitionsAsync(List<RequestedPartition> wanted, K.FetchRequest request, ParkedFetches parked)
    {
        var maxBytes = request.MaxBytes > 0 ? request.MaxBytes : int.MaxValue;
        var minBytes = Math.Max(1, request.MinBytes);
        var first = new Task<FetchResponse>[wanted.Count];
        for (var i = 0; i < wanted.Count; i++)
            first[i] = FetchOneAsync(wanted[i], maxBytes, 0, request.RackId);
        var results = await Task.WhenAll(first).ConfigureAwait(false);

        long bytes = 0;
        var anyError = false;
        foreach (var r in results)
        {
            bytes += r.Records.Length;
            anyError |= r.Error != ErrorCode.None;
        }
        if (bytes >= minBytes || anyError || request.MaxWaitMs <= 0 || wanted.Count == 0) return results;

        // Waits this connection left parked at the same offsets are taken over rather than doubled (ParkedFetches).
        var keys = new (string, int, long)[wanted.Count];
        for (var i = 0; i < wanted.Count; i++) keys[i] = (wanted[i].Topic, wanted[i].Partition, wanted[i].FetchOffset);
        parked.Prune(keys);
        var waiting = new Dictionary<Task<FetchResponse>, int>(wanted.Count);
        for (var i = 0; i < wanted.Count; i++)
        {
            var p = wanted[i];
            waiting[parked.GetOrPark(p.Topic, p.Partition, p.FetchOffset, () => FetchOneAsync(p, maxBytes, request.MaxWaitMs, request.RackId))] = i;
        }
        while (waiting.Count > 0 && bytes < minBytes)
        {
            var done = await Task.WhenAny(waiting.Keys).ConfigureAwait(false);
            var index = waiting[done];
            waiting.Remove(done);
            var r = await done.ConfigureAwait(false);
            parked.Used(wanted[index].Topic, wanted[index].Partition, wanted[index].FetchOffset);
            results[index] = r;
            bytes += r.Records.Length;
            if (r.Error != ErrorCode.None) break;
        }
        return results;
    }

    private async Task<FetchResponse> FetchOneAsync(RequestedPartition p, int maxBytes, int maxWaitMs, string? rack)
    {
        var partitionMax = p.PartitionMaxBytes > 0 ? Math.Min(p.PartitionMaxBytes, maxBytes) : maxBytes;
        var fetch = new FetchRequest(p.Topic, p.Partition, p.FetchOffset, partitionMax, maxWaitMs)
        {
            CurrentLeaderEpoch = p.CurrentLeaderEpoch, // v9+ (KIP-320); -1 before
            ClientRack = rack is { Length: > 0 } ? rack : null, // v11+: the gateway picks an in-sync replica in the client's rack (KIP-392)
        };
        var reply = await AskAsync(fetch, AskTimeout + TimeSpan.FromMilliseconds(maxWaitMs)).ConfigureAwait(false);
        return reply as FetchResponse ?? new FetchResponse(p.Topic, p.Partition, reply.Error == ErrorCode.None ? ErrorCode.Unknown : reply.Error, reply.ErrorMessage, -1, -1, ReadOnlyMemory<byte>.Empty);
    }

    // ---- ListOffsets

    /// <summary>
    /// Special timestamps: -1 latest, -2 earliest, -3 the record with the largest timestamp (v7+, KIP-734), -4 the
    /// earliest offset kept on local disk (v8+, KIP-405; every offset is local here, so the earliest) and -5 the
    /// last offset in tiered storage (v9+, KIP-1005; none here, so -1 as Kafka answers without tiered storage).
    /// </summary>
    private async Task<IKafkaMessage?> ListOffsetsAsync(K.ListOffsetsRequest request, short version)
    {
        var asks = new List<Task<IBrokerResponse>>();
        foreach (var t in request.Topics)
        {
            foreach (var p in t.Partitions)
            {
                var timestamp = p.Timestamp;
                if ((timestamp == EarliestLocalTimestamp && version >= 8) || (timestamp == LatestTieredTimestamp && version >= 9))
                {
                    // Still asked of the partition, so an unknown partition or a moved leader is answered as for any other spec.
                    var earliest = AskAsync(new ListOffsetsRequest(t.Name, p.PartitionIndex, OffsetSpec.Earliest), AskTimeout);
                    asks.Add(timestamp == EarliestLocalTimestamp ? earliest : NoTieredOffsetAsync(earliest));
                    continue;
                }
                if (timestamp == OffsetSpec.MaxTimestamp && version < 7)
                {
                    asks.Add(Task.FromResult<IBrokerResponse>(new ListOffsetsResponse(t.Name, p.PartitionIndex, ErrorCode.InvalidRequest,
                        "timestamp -3 (the largest timestamp) needs ListOffsets v7 or later", -1, -1)));
                    continue;
                }
                asks.Add(AskAsync(new ListOffsetsRequest(t.Name, p.PartitionIndex, timestamp), AskTimeout));
            }
        }
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

    // ---- OffsetForLeaderEpoch (KIP-320)

    private async Task<IKafkaMessage?> OffsetForLeaderEpochAsync(K.OffsetForLeaderEpochRequest request)
    {
        var asks = new List<Task<IBrokerResponse>>();
        foreach (var t in request.Topics)
        {
            foreach (var p in t.Partitions)
                asks.Add(AskAsync(new OffsetForLeaderEpochRequest(t.Topic, p.Partition, p.CurrentLeaderEpoch, p.LeaderEpoch), AskTimeout));
        }
        var replies = await Task.WhenAll(asks).ConfigureAwait(false);
        var n = 0;
        return new K.OffsetForLeaderEpochResponse
        {
            Topics = [.. request.Topics.Select(t => new K.OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult
            {
                Topic = t.Topic,
                Partitions = [.. t.Partitions.Select(p =>
                {
                    var reply = replies[n++];
                    var found = reply as OffsetForLeaderEpochResponse;
                    return new K.OffsetForLeaderEpochResponse.EpochEndOffset
                    {
                        Partition = p.Partition,
                        ErrorCode = KafkaErrors.From(found is null && reply.Error == ErrorCode.None ? ErrorCode.Unknown : reply.Error),
                        LeaderEpoch = found?.LeaderEpoch ?? -1,
                        EndOffset = found?.EndOffset ?? -1,
                    };
                })],
            })],
        };
    }

    // ---- DescribeProducers

    /// <summary>Idempotent producers only: no transactions, so the coordinator epoch and transaction start are -1.</summary>
    private async Task<IKafkaMessage?> DescribeProducersAsync(K.DescribeProducersRequest request)
    {
        var asks = new List<Task<IBrokerResponse>>();
        foreach (var t in request.Topics)
        {
            foreach (var p in t.PartitionIndexes)
                asks.Add(AskAsync(new DescribeProducersRequest(t.Name, p), AskTimeout));
        }
        var replies = await Task.WhenAll(asks).ConfigureAwait(false);
        var n = 0;
        return new K.DescribeProducersResponse
        {
            Topics = [.. request.Topics.Select(t => new K.DescribeProducersResponse.TopicResponse
            {
                Name = t.Name,
                Partitions = [.. t.PartitionIndexes.Select(p =>
                {
                    var reply = replies[n++];
                    var found = reply as DescribeProducersResponse;
                    return new K.DescribeProducersResponse.PartitionResponse
                    {
                        PartitionIndex = p,
                        ErrorCode = KafkaErrors.From(found is null && reply.Error == ErrorCode.None ? ErrorCode.Unknown : reply.Error),
                        ErrorMessage = reply.ErrorMessage,
                        ActiveProducers = [.. (found?.Producers ?? []).Select(d => new K.DescribeProducersResponse.ProducerState
                        {
                            ProducerId = d.ProducerId, ProducerEpoch = d.Epoch, LastSequence = d.LastSequence,
                            LastTimestamp = d.LastTimestamp, CoordinatorEpoch = -1, CurrentTxnStartOffset = -1,
                        })],
                    };
                })],
            })],
        };
    }

    // ---- DeleteRecords

    /// <summary>Each partition's leader moves its log start (kafka-delete-records); the low watermark answered is the new log start.</summary>
    private async Task<IKafkaMessage?> DeleteRecordsAsync(K.DeleteRecordsRequest request)
    {
        var asks = new List<Task<IBrokerResponse>>();
        foreach (var t in request.Topics)
        {
            foreach (var p in t.Partitions)
                asks.Add(AskAsync(new DeleteRecordsRequest(t.Name, p.PartitionIndex, p.Offset), AskTimeout));
        }
        var replies = await Task.WhenAll(asks).ConfigureAwait(false);
        var n = 0;
        return new K.DeleteRecordsResponse
        {
            Topics = [.. request.Topics.Select(t => new K.DeleteRecordsResponse.DeleteRecordsTopicResult
            {
                Name = t.Name,
                Partitions = [.. t.Partitions.Select(p =>
                {
                    var reply = replies[n++];
                    return new K.DeleteRecordsResponse.DeleteRecordsPartitionResult
                    {
                        PartitionIndex = p.PartitionIndex,
                        LowWatermark = (reply as DeleteRecordsResponse)?.LowWatermark ?? -1,
                        ErrorCode = KafkaErrors.From(reply is DeleteRecordsResponse || reply.Error != ErrorCode.None ? reply.Error : ErrorCode.Unknown),
                    };
                })],
            })],
        };
    }

    private const long EarliestLocalTimestamp = -4;
    private const long LatestTieredTimestamp = -5;

    private static async Task<IBrokerResponse> NoTieredOffsetAsync(Task<IBrokerResponse> earliest)
    {
        var reply = await earliest.ConfigureAwait(false);
        return reply is ListOffsetsResponse { Error: ErrorCode.None } r ? r with { Offset = -1, Timestamp = -1 } : reply;
    }
}
