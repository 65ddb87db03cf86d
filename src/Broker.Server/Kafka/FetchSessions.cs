namespace Broker.Server.Kafka;

// Fetch sessions (KIP-227): a consumer that fetches the same partitions again and again names only what changed,
// and hears back only about partitions that have something new. Rules only; KafkaRequestHandler.Records applies them.

/// <summary>One partition a fetch session follows: what the client asked last, and what it was last told.</summary>
internal sealed class SessionPartition(string topic, Guid topicId, int partition)
{
    public string Topic { get; } = topic;
    public Guid TopicId { get; } = topicId;
    public int Partition { get; } = partition;
    public long FetchOffset { get; set; }
    public int PartitionMaxBytes { get; set; }
    public int CurrentLeaderEpoch { get; set; } = -1;

    /// <summary>The high watermark and log start last sent; -2 (never sent) makes the next answer include the partition.</summary>
    public long SentHighWatermark { get; set; } = -2;
    public long SentLogStartOffset { get; set; } = -2;

    /// <summary>
    /// Kafka's CachedPartition.maybeUpdateResponseData: an incremental answer carries a partition only when it has records,
    /// an error, or a high watermark or log start the client has not seen.
    /// </summary>
    public bool MustRespond(bool hasRecords, bool hasError, long highWatermark, long logStartOffset) =>
        hasRecords || hasError || highWatermark != SentHighWatermark || logStartOffset != SentLogStartOffset;

    public void Sent(long highWatermark, long logStartOffset)
    {
        SentHighWatermark = highWatermark;
        SentLogStartOffset = logStartOffset;
    }
}

/// <summary>
/// A fetch session: its partitions in answer order (a partition that returned records moves to the end, so a response's
/// max_bytes serves every partition in turn) and the epoch the client must send next. A client has one fetch in flight
/// per session; the partition list is still locked, so a client that pipelines them harms only its own session.
/// </summary>
internal sealed class FetchSession(int id, long createdMs)
{
    private readonly List<SessionPartition> _partitions = [];
    private readonly Lock _lock = new();

    public int Id { get; } = id;
    public long CreatedMs { get; } = createdMs;
    public long LastUsedMs { get; set; } = createdMs;

    /// <summary>The epoch the next incremental request must carry.</summary>
    public int NextEpoch { get; set; } = 1;

    public int Size
    {
        get
        {
            lock (_lock) return _partitions.Count;
        }
    }

    /// <summary>The partitions in answer order, as of now.</summary>
    public SessionPartition[] Partitions
    {
        get
        {
            lock (_lock) return [.. _partitions];
        }
    }

    public SessionPartition? Find(string topic, int partition)
    {
        lock (_lock)
        {
            foreach (var p in _partitions)
            {
                if (p.Partition == partition && p.Topic == topic) return p;
            }
            return null;
        }
    }

    /// <summary>A partition named in a request: added, or its fetch position and limits updated.</summary>
    public SessionPartition Upsert(string topic, Guid topicId, int partition, long fetchOffset, int partitionMaxBytes, int currentLeaderEpoch)
    {
        var p = Find(topic, partition);
        if (p is null)
        {
            p = new SessionPartition(topic, topicId, partition);
            lock (_lock) _partitions.Add(p);
        }
        p.FetchOffset = fetchOffset;
        p.PartitionMaxBytes = partitionMaxBytes;
        p.CurrentLeaderEpoch = currentLeaderEpoch;
        return p;
    }

    /// <summary>A partition the client no longer wants: by topic id from Fetch v13 (the id is set), by name before.</summary>
    public void Forget(ForgottenPartition forgotten)
    {
        lock (_lock)
        {
            var index = _partitions.FindIndex(p => p.Partition == forgotten.Partition
                && (forgotten.TopicId != Guid.Empty ? p.TopicId == forgotten.TopicId : p.Topic == forgotten.Topic));
            if (index >= 0) _partitions.RemoveAt(index);
        }
    }

    /// <summary>Moves a partition that returned records behind the others.</summary>
    public void MoveToEnd(SessionPartition p)
    {
        lock (_lock)
        {
            if (_partitions.Remove(p)) _partitions.Add(p);
        }
    }

    /// <summary>Kafka's JFetchMetadata.nextEpoch: after int.MaxValue comes 1 (0 and -1 mean open and close).</summary>
    public static int EpochAfter(int epoch) => epoch == int.MaxValue ? 1 : epoch + 1;
}

/// <summary>What a fetch request's session id and epoch make of it.</summary>
internal abstract record FetchContext
{
    /// <summary>A full fetch: every requested partition is answered. <see cref="NewSession"/> is the session opened for it, or null (sessionless: closed by epoch -1, or no slot free).</summary>
    public sealed record Full(FetchSession? NewSession) : FetchContext;

    /// <summary>An incremental fetch in an existing session, already updated with the request's partitions and forgotten ones.</summary>
    public sealed record Incremental(FetchSession Session) : FetchContext;

    /// <summary>Refused as a whole: FETCH_SESSION_ID_NOT_FOUND or INVALID_FETCH_SESSION_EPOCH; the client starts a new session with a full fetch.</summary>
    public sealed record Refused(short ErrorCode, string Message) : FetchContext;
}

/// <summary>A partition a request's forgotten_topics_data names: by topic id from Fetch v13, by name before (the other is empty).</summary>
internal readonly record struct ForgottenPartition(string? Topic, Guid TopicId, int Partition);

/// <summary>A partition as a fetch request names it.</summary>
internal readonly record struct RequestedPartition(string Topic, Guid TopicId, int Partition, long FetchOffset, int PartitionMaxBytes, int CurrentLeaderEpoch);

/// <summary>
/// The node's fetch sessions, at most <c>max-incremental-fetch-session-cache-slots</c> (Kafka's
/// <c>max.incremental.fetch.session.cache.slots</c>, 1000). When full, a new session takes the slot of the least recently
/// used one if that has been idle for the eviction age (Kafka's 120 s), else of the smallest session older than the
/// eviction age if the new one follows more partitions; otherwise the fetch is answered without a session (id 0) and the
/// client keeps sending full fetches. Shared by all connections to the node (a session is not bound to its socket, as in
/// Kafka); every method takes the one lock. The clock is an input so the rules are tested with a fake one.
/// </summary>
internal sealed class FetchSessionCache(int maxSlots, TimeProvider time, TimeSpan? evictionAge = null)
{
    public static readonly TimeSpan DefaultEvictionAge = TimeSpan.FromMinutes(2);

    private readonly Dictionary<int, FetchSession> _sessions = [];
    private readonly long _evictionMs = (long)(evictionAge ?? DefaultEvictionAge).TotalMilliseconds;
    private readonly Lock _lock = new();

    public int Count
    {
        get
        {
            lock (_lock) return _sessions.Count;
        }
    }

    public bool Contains(int sessionId)
    {
        lock (_lock) return _sessions.ContainsKey(sessionId);
    }

    /// <summary>
    /// Applies a request's session id and epoch (KIP-227): epoch -1 closes the session named and fetches without one; epoch 0
    /// closes the session named and opens a new one; a positive epoch continues a session, whose epoch must match.
    /// </summary>
    public FetchContext Open(int sessionId, int epoch, IReadOnlyList<RequestedPartition> requested, IReadOnlyList<ForgottenPartition> forgotten)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_lock)
        {
            if (epoch is 0 or -1)
            {
                if (sessionId != 0) _sessions.Remove(sessionId);
                if (epoch == -1) return new FetchContext.Full(null);
                var created = TryCreate(requested.Count, now);
                if (created is not null)
                {
                    foreach (var r in requested) created.Upsert(r.Topic, r.TopicId, r.Partition, r.FetchOffset, r.PartitionMaxBytes, r.CurrentLeaderEpoch);
                }
                return new FetchContext.Full(created);
            }

            if (!_sessions.TryGetValue(sessionId, out var session))
                return new FetchContext.Refused(KafkaErrors.FetchSessionIdNotFound, $"fetch session {sessionId} is not on this node (evicted, or the node restarted); start a new one with epoch 0");
            if (session.NextEpoch != epoch)
                return new FetchContext.Refused(KafkaErrors.InvalidFetchSessionEpoch, $"fetch session {sessionId} expects epoch {session.NextEpoch}, got {epoch}; start a new one with epoch 0");
            // Kafka's FetchSession.update: the named partitions first, then the forgotten ones go (forgetting wins).
            foreach (var r in requested) session.Upsert(r.Topic, r.TopicId, r.Partition, r.FetchOffset, r.PartitionMaxBytes, r.CurrentLeaderEpoch);
            foreach (var f in forgotten) session.Forget(f);
            session.NextEpoch = FetchSession.EpochAfter(epoch);
            session.LastUsedMs = now;
            return new FetchContext.Incremental(session);
        }
    }

    private FetchSession? TryCreate(int size, long now)
    {
        if (maxSlots <= 0) return null;
        if (_sessions.Count >= maxSlots && !TryEvict(size, now)) return null;
        int id;
        do
        {
            id = Random.Shared.Next(1, int.MaxValue); // random, as Kafka's: a client cannot guess another's session
        }
        while (_sessions.ContainsKey(id));
        var session = new FetchSession(id, now);
        _sessions[id] = session;
        return session;
    }

    /// <summary>Kafka's FetchSessionCache.tryEvict, without privileged (follower) sessions: replication does not use this listener.</summary>
    private bool TryEvict(int size, long now)
    {
        FetchSession? leastRecent = null;
        FetchSession? smallest = null;
        foreach (var s in _sessions.Values)
        {
            if (leastRecent is null || s.LastUsedMs < leastRecent.LastUsedMs) leastRecent = s;
            if (now - s.CreatedMs >= _evictionMs && (smallest is null || s.Size < smallest.Size || (s.Size == smallest.Size && s.Id < smallest.Id))) smallest = s;
        }
        var victim = leastRecent is not null && now - leastRecent.LastUsedMs > _evictionMs ? leastRecent
            : smallest is not null && size > smallest.Size ? smallest
            : null;
        if (victim is null) return false;
        _sessions.Remove(victim.Id);
        return true;
    }
}
