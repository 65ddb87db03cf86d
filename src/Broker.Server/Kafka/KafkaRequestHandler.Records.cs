using Akka.Actor;
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
    /// fetch). Whole batches only, at least one even if larger than the limits (KIP-74). No fetch sessions:
    /// session id 0 tells the client to send full fetches (KIP-227).
    /// </summary>
    private async Task<IKafkaMessage?> FetchAsync(K.FetchRequest request, short version, ParkedFetches parked)
    {
        // v13+ name topics by id: each id resolved once per request, an unknown one answered UNKNOWN_TOPIC_ID without asking a partition.
        var names = new string?[request.Topics.Count];
        for (var i = 0; i < names.Length; i++)
            names[i] = version >= 13 ? await TopicNameAsync(request.Topics[i].TopicId).ConfigureAwait(false) : request.Topics[i].Topic;
        var wanted = new List<(string Topic, K.FetchRequest.FetchPartition Partition)>();
        var unknown = new List<int>();
        for (var i = 0; i < names.Length; i++)
        {
            foreach (var p in request.Topics[i].Partitions)
            {
                if (names[i] is null) unknown.Add(wanted.Count);
                wanted.Add((names[i] ?? "", p));
            }
        }
        var maxBytes = request.MaxBytes > 0 ? request.MaxBytes : int.MaxValue;
        var minBytes = Math.Max(1, request.MinBytes);

        var first = new Task<FetchResponse>[wanted.Count];
        var unknownSet = new HashSet<int>(unknown);
        for (var i = 0; i < wanted.Count; i++)
        {
            first[i] = unknownSet.Contains(i)
                ? Task.FromResult(new FetchResponse("", wanted[i].Partition.Partition, ErrorCode.UnknownTopic, "unknown topic id", -1, -1, ReadOnlyMemory<byte>.Empty))
                : FetchOneAsync(wanted[i].Topic, wanted[i].Partition, maxBytes, 0, request.RackId);
        }
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
                var isUnknownId = unknownSet.Contains(n);
                var r = results[n++];
                var records = r.Records;
                // The response's max_bytes: past it, later partitions come back empty and are fetched again next time.
                if (!records.IsEmpty && used > 0 && used + records.Length > maxBytes) records = ReadOnlyMemory<byte>.Empty;
                used += records.Length;
                partitions.Add(new()
                {
                    PartitionIndex = p.Partition,
                    ErrorCode = isUnknownId ? KafkaErrors.UnknownTopicId : KafkaErrors.From(r.Error),
                    HighWatermark = r.HighWatermark,
                    LastStableOffset = r.HighWatermark,
                    LogStartOffset = r.LogStartOffset,
                    AbortedTransactions = null,
                    PreferredReadReplica = -1,
                    Records = records,
                });
            }
            topics.Add(new() { Topic = t.Topic, TopicId = t.TopicId, Partitions = partitions });
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
