using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Metadata;

namespace Broker.Server.Partitions;

/// <summary>Who this replica is right now, as its replies tell it.</summary>
internal readonly record struct ReplicaRole(bool IsLeader, int LeaderEpoch, int ServingEpoch);

/// <summary>
/// Every reply a partition replica builds for a request it refuses or cannot finish, and the texts they carry, in
/// one place: one function answers any partition request with an error (<see cref="Refusal"/>), so the NotLeader a
/// follower gives, the error a stepping-down leader gives its waiting requests, and a refused replica fetch read
/// the same. Plain: the host sends what it returns.
/// </summary>
internal sealed class PartitionReplies(string topic, int partition, int nodeId, string address, PartitionLog log, Func<ReplicaRole> role)
{
    public string Name { get; } = $"{topic}/{partition}";

    /// <summary>The reply that refuses <paramref name="request"/> with <paramref name="error"/>; null for a message that is not a partition request.</summary>
    public object? Refusal(object request, ErrorCode error, string message) => request switch
    {
        AppendBatch => AppendFailed(error, message),
        FetchRequest f => FetchError(f, error, message),
        ListOffsetsRequest => new ListOffsetsResponse(topic, partition, error, message, -1, -1),
        DeleteRecordsRequest => new DeleteRecordsResponse(topic, partition, error, message, -1),
        OffsetForLeaderEpochRequest => new OffsetForLeaderEpochResponse(topic, partition, error, message, -1, -1),
        DescribeProducersRequest => new DescribeProducersResponse(topic, partition, error, message, []),
        GetPartitionInfo => Info(error, message),
        ReplicaFetch r => ReplicaError(r, error, message),
        _ => null,
    };

    /// <summary>
    /// KIP-320: the refusal of a request whose client saw leader epoch <paramref name="clientEpoch"/> while this
    /// replica serves in <paramref name="servingEpoch"/>: NotLeader when this replica is behind (the client retries
    /// elsewhere), FencedLeaderEpoch when the client is (it refreshes). Null when they agree or the client names none.
    /// </summary>
    public object? EpochMismatch(object request, int clientEpoch, int servingEpoch)
    {
        if (clientEpoch < 0 || clientEpoch == servingEpoch) return null;
        return clientEpoch > servingEpoch
            ? Refusal(request, ErrorCode.NotLeader, $"the replica of {Name} on node {nodeId} is in leader epoch {servingEpoch}, behind the epoch {clientEpoch} the client saw; retry, the request goes to a current replica")
            : Refusal(request, ErrorCode.FencedLeaderEpoch, $"the client saw leader epoch {clientEpoch} of {Name}, older than the current {servingEpoch}; it refreshes and retries");
    }

    public string NotLeaderText(string why) => $"node {nodeId} does not lead {Name} ({why}); retry: the request is routed to the leader";

    public AppendResult AppendFailed(ErrorCode error, string message, IReadOnlyList<RecordError>? recordErrors = null) =>
        new(topic, partition, error, message, -1) { RecordErrors = recordErrors };

    public AppendResult Appended(long baseOffset, long logAppendTime = -1) =>
        new(topic, partition, ErrorCode.None, null, baseOffset) { LogAppendTime = logAppendTime };

    /// <summary>The error an append refused by <see cref="LeaderState{TReplyTo}.Fence"/> or <see cref="LeaderState{TReplyTo}.CheckMinIsr"/> gets.</summary>
    public AppendResult AppendRefused(AppendAdmission admission, AppendBatch command, PartitionState state, int minInsyncReplicas) => admission switch
    {
        AppendAdmission.StaleLeader => AppendFailed(ErrorCode.NotLeader,
            $"{Name}: node {nodeId} leads epoch {role().LeaderEpoch}, but leader epoch {command.LeaderEpoch} exists; this leader is stale, nothing was written. Retry: the request goes to the current leader"),
        AppendAdmission.OtherEpoch => AppendFailed(ErrorCode.FencedLeaderEpoch,
            $"{Name}: the writer holds leader epoch {command.LeaderEpoch}, but this leadership is epoch {role().LeaderEpoch}; nothing was written. The writer must read the log again"),
        AppendAdmission.OtherIncarnation => AppendFailed(ErrorCode.NotLeader,
            $"{Name}: this replica's log belongs to another incarnation of the topic than {command.TopicId} (it was deleted and created again moments ago); retry shortly"),
        AppendAdmission.NotEnoughReplicas => AppendFailed(ErrorCode.NotEnoughReplicas,
            $"{Name} has {state.Isr.Length} in-sync replica(s) [{string.Join(",", state.Isr)}], fewer than min.insync.replicas={minInsyncReplicas}; nothing was written. Retry once the other replicas are back, or produce with acks=1"),
        _ => throw new ArgumentOutOfRangeException(nameof(admission), admission, "an admitted append is not refused"),
    };

    /// <summary>The answer to an acks=all producer that the high watermark released.</summary>
    public AppendResult Released(CommitOutcome outcome, long baseOffset, long logAppendTime, PartitionState state, int minInsyncReplicas) =>
        outcome == CommitOutcome.Committed
            ? Appended(baseOffset, logAppendTime)
            : AppendFailed(ErrorCode.NotEnoughReplicasAfterAppend,
                $"{Name} is stored on the leader, but the ISR shrank to {state.Isr.Length} replica(s) [{string.Join(",", state.Isr)}] (min.insync.replicas={minInsyncReplicas}) while waiting; it may be lost if the leader fails. Retrying may duplicate it");

    public FetchResponse FetchError(FetchRequest request, ErrorCode error, string message) =>
        new(request.Topic, request.Partition, error, message, log.HighWatermark, log.LogStart, ReadOnlyMemory<byte>.Empty) { LeaderEpoch = role().ServingEpoch };

    public ReplicaFetchResult ReplicaError(ReplicaFetch fetch, ErrorCode error, string message)
    {
        var now = role();
        return new(topic, partition, fetch.FetchId, error, message, now.LeaderEpoch, now.IsLeader ? nodeId : -1, log.HighWatermark, log.LogStart, -1, -1, ReadOnlyMemory<byte>.Empty);
    }

    /// <summary>A leader's answer to a follower's fetch: <paramref name="records"/>, or where the follower diverges (KIP-101/279).</summary>
    public ReplicaFetchResult ReplicaFetched(ReplicaFetch fetch, ReadOnlyMemory<byte> records, int divergingEpoch = -1, long divergingEndOffset = -1) =>
        new(topic, partition, fetch.FetchId, ErrorCode.None, null, role().LeaderEpoch, nodeId, log.HighWatermark, log.LogStart, divergingEpoch, divergingEndOffset, records);

    public PartitionInfo Info(ErrorCode error, string? message)
    {
        var now = role();
        return new(topic, partition, error, message, log.LogStart, log.HighWatermark, log.LogEnd, now.LeaderEpoch, now.IsLeader ? nodeId : -1, address);
    }
}
