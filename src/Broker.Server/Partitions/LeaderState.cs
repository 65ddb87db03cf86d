using System.Collections.Immutable;
using Broker.Server.Metadata;

namespace Broker.Server.Partitions;

/// <summary>Whether a leader takes an append: the first refusal that applies, in the order they are checked.</summary>
internal enum AppendAdmission
{
    Admitted,
    /// <summary>The producer saw a newer leader epoch than this leader's: this leader is stale.</summary>
    StaleLeader,
    /// <summary>The writer requires the epoch it named (a group coordinator), and this leadership is another one: its state may be stale.</summary>
    OtherEpoch,
    /// <summary>The producer names another incarnation of the topic (deleted and created again).</summary>
    OtherIncarnation,
    /// <summary>acks=all and the ISR is smaller than min.insync.replicas.</summary>
    NotEnoughReplicas,
}

/// <summary>How an acks=all append that waited for the high watermark ends.</summary>
internal enum CommitOutcome
{
    Committed,
    /// <summary>Stored on the leader, but the ISR shrank below min.insync.replicas while it waited.</summary>
    NotEnoughReplicasAfterAppend,
}

/// <summary>What a leader does with the outcome of its ISR write.</summary>
internal enum IsrWriteStep
{
    /// <summary>The new ISR is committed: it is the state now.</summary>
    Applied,
    /// <summary>A newer leader epoch exists: this leader is fenced and steps down.</summary>
    Fenced,
    /// <summary>Not confirmed by a majority (it may still land): keep counting both sets, write again at the next check.</summary>
    Unconfirmed,
    /// <summary>
    /// Refused, but the store names this node leader in this very epoch, with another partition epoch or ISR (an
    /// earlier ISR write of ours it reported written did not survive, or landed differently): this leader is not
    /// fenced; it takes the stored state as its own and proposes again from it at the next check (Kafka's leader does
    /// the same on INVALID_UPDATE_VERSION).
    /// </summary>
    Refreshed,
    /// <summary>
    /// Refused, and the store holds an OLDER leader epoch than the one this leader was elected in: the election that
    /// made it leader is no longer in the metadata (a committed metadata write was lost; the nemesis saw it once after
    /// a full restart on a wiped voter's empty Raft log, docs/architecture.md). Nobody newer leads, so stepping down to
    /// follow the stored leader would leave the partition without one for good (that leader's entity is not there):
    /// this replica, whose leader entity is here, elects itself again from the stored state.
    /// </summary>
    StoreBehind,
}

/// <summary>An ISR change to write (compare-and-set from <paramref name="Expected"/>), and why.</summary>
internal sealed record IsrProposal(PartitionState Expected, PartitionState Next, string Why);

/// <summary>An acks=all producer released by the high watermark.</summary>
internal sealed record AckRelease<TReplyTo>(TReplyTo ReplyTo, long BaseOffset, long LogAppendTime, CommitOutcome Outcome);

/// <summary>
/// A partition leader's rules, without an actor (the leader half of Kafka's Partition): the leader epoch and the
/// committed leader/ISR state, each follower's progress, the ISR changes to propose (shrink a follower that lags
/// past replica.lag.time.max, is down or no longer a replica; expand one caught up to the high watermark and into
/// this epoch), the high watermark over the "maximal ISR" (the committed set plus the members being added or
/// removed) while a change is being written, and the acks=all producers it releases. One instance lives as long
/// as the replica, across leaderships: <see cref="Epoch"/> stays the last one led. Time comes from a
/// <see cref="TimeProvider"/> and liveness from a function, so it is tested with a fake clock.
/// <typeparamref name="TReplyTo"/> is whoever waits for an acknowledgement (an actor in the host).
/// </summary>
internal sealed class LeaderState<TReplyTo>
{
    private readonly int _nodeId;
    private readonly TimeProvider _clock;
    private readonly long _started;
    private readonly Dictionary<int, FollowerProgress> _followers = new();
    private readonly Queue<(long EndOffset, long BaseOffset, long LogAppendTime, TReplyTo ReplyTo)> _ackWaiters = new();

    public LeaderState(int nodeId, TimeProvider clock)
    {
        _nodeId = nodeId;
        _clock = clock;
        _started = clock.GetTimestamp();
    }

    public bool IsLeader { get; private set; }

    /// <summary>The epoch this replica leads, or last led (-1 if never).</summary>
    public int Epoch { get; private set; } = -1;

    /// <summary>The committed leader/ISR state this leader wrote.</summary>
    public PartitionState? State { get; private set; }

    /// <summary>An ISR change being written; until it lands, the high watermark counts both sets.</summary>
    public ImmutableArray<int>? ProposedIsr { get; private set; }

    public bool IsrWriteInFlight { get; private set; }

    public int WaitingAcks => _ackWaiters.Count;

    public IEnumerable<int> FollowerIds => _followers.Keys;

    private long NowMs => (long)_clock.GetElapsedTime(_started).TotalMilliseconds;

    /// <summary>The ISR as the high watermark must see it: the committed set plus any member being added or removed (Kafka's "maximal ISR").</summary>
    public IEnumerable<int> MaximalIsr
    {
        get
        {
            if (State is null) yield break;
            foreach (var id in State.Isr) yield return id;
            if (ProposedIsr is not { } proposed) yield break;
            foreach (var id in proposed)
                if (!State.Isr.Contains(id)) yield return id;
        }
    }

    /// <summary>Starts leading the epoch of <paramref name="state"/>: every other replica starts as a follower that has not fetched yet.</summary>
    public void Start(PartitionState state, ImmutableArray<int> replicas)
    {
        Epoch = state.LeaderEpoch;
        State = state;
        ProposedIsr = null;
        IsrWriteInFlight = false;
        IsLeader = true;
        _followers.Clear();
        var now = NowMs;
        foreach (var id in replicas)
            if (id != _nodeId) _followers[id] = new FollowerProgress(id, now);
    }

    /// <summary>Stops leading; false if it did not lead. The waiting producers are the caller's to fail (<see cref="DrainAckWaiters"/>).</summary>
    public bool StepDown()
    {
        if (!IsLeader) return false;
        IsLeader = false;
        ProposedIsr = null;
        return true;
    }

    /// <summary>True if an append whose offsets were assigned in <paramref name="epoch"/> landed while that leadership lasts.</summary>
    public bool StillLeads(int epoch) => IsLeader && Epoch == epoch;

    // ---- appends ----

    public AppendAdmission Fence(int requestLeaderEpoch, bool exactEpoch, bool sameIncarnation) =>
        requestLeaderEpoch > Epoch ? AppendAdmission.StaleLeader
        : exactEpoch && requestLeaderEpoch != Epoch ? AppendAdmission.OtherEpoch
        : !sameIncarnation ? AppendAdmission.OtherIncarnation
        : AppendAdmission.Admitted;

    public AppendAdmission CheckMinIsr(int acks, int minInsyncReplicas) =>
        acks == -1 && State!.Isr.Length < minInsyncReplicas ? AppendAdmission.NotEnoughReplicas : AppendAdmission.Admitted;

    /// <summary>True if a producer asking <paramref name="acks"/> may be answered for records ending at <paramref name="endOffset"/> now.</summary>
    public static bool Acknowledged(long endOffset, int acks, PartitionLog log) =>
        endOffset <= log.HighWatermark || (acks == 1 && endOffset <= log.LogEnd);

    /// <summary>Parks an acks=all producer until the high watermark reaches <paramref name="endOffset"/>.</summary>
    public void AwaitCommit(long endOffset, long baseOffset, long logAppendTime, TReplyTo replyTo) =>
        _ackWaiters.Enqueue((endOffset, baseOffset, logAppendTime, replyTo));

    /// <summary>Every waiting producer, in order, removed: the leadership ended or the replica stops.</summary>
    public List<TReplyTo> DrainAckWaiters()
    {
        var waiting = new List<TReplyTo>(_ackWaiters.Count);
        while (_ackWaiters.TryDequeue(out var waiter)) waiting.Add(waiter.ReplyTo);
        return waiting;
    }

    // ---- the high watermark ----

    /// <summary>The lowest log end among the (maximal) ISR; a member that has not fetched from this leader yet holds it where it is.</summary>
    public long HighWatermarkOf(long logEnd, long highWatermark)
    {
        var hw = logEnd;
        foreach (var id in MaximalIsr)
        {
            if (id == _nodeId) continue;
            var end = _followers.TryGetValue(id, out var progress) && progress.LogEndOffset >= 0 ? progress.LogEndOffset : highWatermark;
            hw = Math.Min(hw, end);
        }
        return hw;
    }

    /// <summary>
    /// Moves the log's high watermark (true if it moved: waiting consumers may be served) and releases the acks=all
    /// producers it passed, each told whether the ISR still has min.insync.replicas members.
    /// </summary>
    public bool UpdateHighWatermark(PartitionLog log, int minInsyncReplicas, List<AckRelease<TReplyTo>> released)
    {
        var advanced = log.AdvanceHighWatermark(HighWatermarkOf(log.LogEnd, log.HighWatermark));
        while (_ackWaiters.TryPeek(out var waiter) && waiter.EndOffset <= log.HighWatermark)
        {
            _ackWaiters.Dequeue();
            var outcome = State!.Isr.Length >= minInsyncReplicas ? CommitOutcome.Committed : CommitOutcome.NotEnoughReplicasAfterAppend;
            released.Add(new AckRelease<TReplyTo>(waiter.ReplyTo, waiter.BaseOffset, waiter.LogAppendTime, outcome));
        }
        return advanced;
    }

    // ---- followers and the ISR ----

    /// <summary>
    /// A follower fetched at <paramref name="followerLogEnd"/> (after the divergence checks): its progress is noted,
    /// and an ISR expansion is proposed if it caught up to the high watermark and into this leader's epoch (Kafka's rule).
    /// </summary>
    public IsrProposal? OnFollowerFetch(int replicaId, long followerLogEnd, PartitionLog log, Func<int, bool> isAlive)
    {
        var now = NowMs;
        if (!_followers.TryGetValue(replicaId, out var progress))
            _followers[replicaId] = progress = new FollowerProgress(replicaId, now);
        progress.OnFetch(followerLogEnd, log.LogEnd, now);
        if (State is null || ProposedIsr is not null || State.InIsr(replicaId)) return null;
        if (progress.LogEndOffset < log.HighWatermark || progress.LogEndOffset < log.Epochs.LatestEpochStart) return null;
        if (!isAlive(replicaId)) return null;
        return Propose(State.Isr.Add(replicaId), $"node {replicaId} caught up");
    }

    /// <summary>A reassignment changed the replicas: forget the followers that are no longer replicas.</summary>
    public void ForgetRemovedFollowers(ImmutableArray<int> replicas)
    {
        foreach (var id in _followers.Keys.ToList())
            if (!replicas.Contains(id)) _followers.Remove(id);
    }

    /// <summary>
    /// The periodic ISR check (and on a member becoming unreachable or removed): an unconfirmed change is written
    /// again; otherwise members that are no longer replicas, are down, or have not caught up for
    /// <paramref name="lagTimeMax"/> are dropped. Null if nothing is to be written (or a write is in flight).
    /// With <paramref name="seesMajority"/> false (this node sees most of its cluster unreachable: it is more likely
    /// the one cut off, or just woken from a pause) nobody is dropped for being unreachable, only for lagging: a
    /// woken leader would otherwise shrink the ISR to itself before the others had moved the partition away.
    /// </summary>
    public IsrProposal? CheckIsr(ImmutableArray<int> replicas, Func<int, bool> isAlive, TimeSpan lagTimeMax, bool seesMajority = true)
    {
        if (State is null || IsrWriteInFlight) return null;
        if (ProposedIsr is { } unconfirmed) return Propose(unconfirmed, "retrying an unconfirmed change");
        var now = NowMs;
        var keep = ImmutableArray.CreateBuilder<int>();
        var dropped = new List<string>();
        foreach (var id in State.Isr)
        {
            if (id == _nodeId)
            {
                keep.Add(id);
                continue;
            }
            var lagging = _followers.TryGetValue(id, out var p) && now - p.LastCaughtUpMs > lagTimeMax.TotalMilliseconds;
            if (!replicas.Contains(id)) dropped.Add($"node {id} is no longer a replica");
            else if (seesMajority && !isAlive(id)) dropped.Add($"node {id} is down or unreachable");
            else if (lagging) dropped.Add($"node {id} has not caught up for {(now - p!.LastCaughtUpMs) / 1000.0:0.#}s");
            else keep.Add(id);
        }
        return dropped.Count > 0 ? Propose(keep.ToImmutable(), string.Join("; ", dropped)) : null;
    }

    private IsrProposal Propose(ImmutableArray<int> isr, string why)
    {
        var current = State!;
        ProposedIsr = isr;
        IsrWriteInFlight = true;
        return new IsrProposal(current, current with { PartitionEpoch = current.PartitionEpoch + 1, Isr = isr }, why);
    }

    public IsrWriteStep OnIsrWritten(PartitionStateWrite written)
    {
        IsrWriteInFlight = false;
        switch (written)
        {
            case PartitionStateWrite.Written { State: var state } when state.LeaderEpoch == Epoch:
                State = state;
                ProposedIsr = null;
                return IsrWriteStep.Applied;
            case PartitionStateWrite.Conflict { Newer: { } stored } when stored.Leader == _nodeId && stored.LeaderEpoch == Epoch:
                State = stored;
                ProposedIsr = null;
                return IsrWriteStep.Refreshed;
            case PartitionStateWrite.Conflict { Newer: { } stored } when stored.LeaderEpoch < Epoch:
                ProposedIsr = null;
                return IsrWriteStep.StoreBehind;
            case PartitionStateWrite.Conflict:
                return IsrWriteStep.Fenced;
            default:
                return IsrWriteStep.Unconfirmed;
        }
    }
}
