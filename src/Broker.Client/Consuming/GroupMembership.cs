// A consumer's membership in its group: joins and syncs, heartbeats, and hands new assignments to the consumer's thread.
using Broker.Client.Connection;
using Broker.Protocol;
using Broker.Protocol.Groups;
using Broker.Protocol.Messages;

namespace Broker.Client.Consuming;

/// <summary>
/// Runs the group protocol for one consumer, off the consumer's thread. A heartbeat loop keeps the session
/// alive and notices rebalances (RebalanceInProgress, or a lost membership); it then only raises
/// <see cref="RejoinNeeded"/>, because the consumer's thread must revoke its partitions (commit, call the
/// user's callback) before this member rejoins: that ordering is what makes an eager rebalance lose nothing.
/// The consumer thread then calls <see cref="StartJoin"/>; the join and sync run in the background and the
/// new assignment is picked up with <see cref="TryTakeAssignment"/>. Thread-safe.
///
/// One <see cref="MembershipState"/> under <c>_sync</c> says where the member is (as Kafka's AbstractCoordinator
/// keeps one state): RejoinNeeded -> Joining (StartJoin) -> Stable (assigned); Stable -> RejoinNeeded (the
/// coordinator rebalances) or Lost (it dropped this member); Lost -> Joining. A Subscribe during a join makes it
/// JoiningStale, which ends in RejoinNeeded. Member id, generation and protocol change together, as one
/// <see cref="MemberIdentity"/>, written under the same lock.
/// </summary>
internal sealed class GroupMembership : IDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(500);

    private readonly IBrokerTransport _transport;
    private readonly ConsumerConfig _config;
    private readonly string[] _assignors;
    private readonly Action _wake;
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _sync = new();
    private IReadOnlyList<string> _topics = [];
    private IReadOnlyList<TopicPartition> _owned = [];
    private (int Generation, IReadOnlyList<TopicPartition> Partitions)? _newAssignment;
    private BrokerException? _fatal;
    private MembershipState _state = MembershipState.RejoinNeeded;
    private volatile MemberIdentity _identity = MemberIdentity.None;
    private Task _heartbeats = Task.CompletedTask;

    public GroupMembership(IBrokerTransport transport, ConsumerConfig config, string[] assignors, Action wake)
    {
        _transport = transport;
        _config = config;
        _assignors = assignors;
        _wake = wake;
    }

    public string GroupId => _config.GroupId!;

    /// <summary>Member id, generation and protocol as of the last join (empty member id: not a member).</summary>
    public MemberIdentity Identity => _identity;

    public string MemberId => _identity.MemberId;

    public int Generation => _identity.Generation;

    /// <summary>The group rebalances incrementally (the chosen assignor is cooperative-sticky).</summary>
    public bool Cooperative => _identity.Cooperative;

    /// <summary>The coordinator asked for a rejoin (or this member was dropped) and no join is running yet.</summary>
    public bool RejoinNeeded
    {
        get { lock (_sync) return _state is MembershipState.RejoinNeeded or MembershipState.Lost; }
    }

    /// <summary>The coordinator dropped this member: the partitions it had are no longer its own.</summary>
    public bool MembershipLost
    {
        get { lock (_sync) return _state == MembershipState.Lost; }
    }

    public void Start(IReadOnlyList<string> topics)
    {
        lock (_sync)
        {
            _topics = topics;
            _state = _state switch
            {
                MembershipState.Joining or MembershipState.JoiningStale => MembershipState.JoiningStale,
                MembershipState.Lost => MembershipState.Lost,
                _ => MembershipState.RejoinNeeded,
            };
            if (_heartbeats.IsCompleted) _heartbeats = Task.Run(HeartbeatLoopAsync);
        }
    }

    /// <summary>Sets the identity (under _sync): id, generation and protocol change together.</summary>
    private void SetIdentity(MemberIdentity identity)
    {
        lock (_sync) _identity = identity;
    }

    /// <summary>An error the consumer should throw (e.g. InconsistentGroupProtocol); cleared when read.</summary>
    public BrokerException? TakeFatalError()
    {
        lock (_sync)
        {
            var error = _fatal;
            _fatal = null;
            return error;
        }
    }

    public bool TryTakeAssignment(out IReadOnlyList<TopicPartition> partitions)
    {
        lock (_sync)
        {
            partitions = _newAssignment?.Partitions ?? [];
            if (_newAssignment is null) return false;
            _newAssignment = null;
            return true;
        }
    }

    /// <summary>Puts back an assignment the consumer could not apply yet (its committed offsets could not be read), to retry on the next poll.</summary>
    public void Requeue(IReadOnlyList<TopicPartition> partitions)
    {
        lock (_sync) _newAssignment ??= (Generation, partitions);
    }

    /// <summary>
    /// Called by the consumer thread once it has revoked what it must (everything, in an eager group): joins and
    /// syncs in the background, telling the group which partitions it still <paramref name="owned"/>.
    /// </summary>
    public void StartJoin(IReadOnlyList<TopicPartition> owned)
    {
        lock (_sync)
        {
            if (_state is MembershipState.Joining or MembershipState.JoiningStale) return;
            _state = MembershipState.Joining;
            _owned = owned;
        }
        _ = Task.Run(JoinUntilAssignedAsync);
    }

    private async Task JoinUntilAssignedAsync()
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                try
                {
                    if (await TryJoinAndSyncAsync().ConfigureAwait(false)) return;
                }
                catch (BrokerException ex) when (IsFatal(ex.Error))
                {
                    lock (_sync) _fatal = ex;
                    _wake();
                    // Keep trying: the consumer surfaces the error once, and a config fix on the other
                    // members (or the broker) lets this one in without a restart.
                    await Task.Delay(TimeSpan.FromSeconds(2), _stopping.Token).ConfigureAwait(false);
                }
                catch (BrokerException)
                {
                    // The node is restarting or unreachable: try again shortly.
                    await Task.Delay(RetryDelay, _stopping.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            lock (_sync)
            {
                // Stopped before an assignment came: nothing to keep.
                if (_state is MembershipState.Joining or MembershipState.JoiningStale) _state = MembershipState.RejoinNeeded;
            }
        }
    }

    private static bool IsFatal(ErrorCode error) =>
        error is ErrorCode.InconsistentGroupProtocol or ErrorCode.InvalidSessionTimeout or ErrorCode.InvalidGroupId or ErrorCode.InvalidRequest;

    /// <summary>One join + sync round; false means "try again" (the group moved on meanwhile).</summary>
    private async Task<bool> TryJoinAndSyncAsync()
    {
        IReadOnlyList<string> topics;
        IReadOnlyList<TopicPartition> owned;
        lock (_sync)
        {
            topics = _topics;
            owned = _owned;
        }
        var subscription = ConsumerProtocol.EncodeSubscription(new ConsumerSubscription(topics, owned));
        var protocols = new GroupProtocol[_assignors.Length];
        for (var i = 0; i < _assignors.Length; i++) protocols[i] = new GroupProtocol(_assignors[i], subscription);
        var join = new JoinGroupRequest(GroupId, MemberId, _config.ClientId, _config.SessionTimeoutMs, _config.RebalanceTimeoutMs, ConsumerProtocol.ProtocolType, protocols);

        // A join is answered when the rebalance completes, which may take the whole rebalance timeout.
        var joinTimeout = TimeSpan.FromMilliseconds(_config.RebalanceTimeoutMs) + _config.RequestTimeout;
        var joined = BrokerErrors.Expect<JoinGroupResponse>(await _transport.Send(join, joinTimeout).ConfigureAwait(false), nameof(JoinGroupRequest));
        if (joined.Error == ErrorCode.UnknownMemberId)
        {
            SetIdentity(MemberIdentity.None);
            return false;
        }
        BrokerErrors.ThrowIfFailed(joined);
        SetIdentity(new MemberIdentity(joined.MemberId, joined.GenerationId,
            string.Equals(joined.ProtocolName, Wellknown.CooperativeStickyAssignor, StringComparison.OrdinalIgnoreCase)));

        var synced = BrokerErrors.Expect<SyncGroupResponse>(
            await _transport.Send(new SyncGroupRequest(GroupId, joined.GenerationId, joined.MemberId, []), _config.RequestTimeout).ConfigureAwait(false), nameof(SyncGroupRequest));
        if (synced.Error is ErrorCode.RebalanceInProgress or ErrorCode.IllegalGeneration) return false;
        if (synced.Error == ErrorCode.UnknownMemberId)
        {
            SetIdentity(MemberIdentity.None);
            return false;
        }
        BrokerErrors.ThrowIfFailed(synced);

        var partitions = ConsumerProtocol.DecodeAssignment(synced.Assignment);
        lock (_sync)
        {
            _newAssignment = (joined.GenerationId, partitions);
            // A Subscribe came during the join: this assignment is for the old topics, so join again.
            _state = _state == MembershipState.JoiningStale ? MembershipState.RejoinNeeded : MembershipState.Stable;
        }
        _wake();
        return true;
    }

    private async Task HeartbeatLoopAsync()
    {
        var interval = TimeSpan.FromMilliseconds(_config.HeartbeatIntervalMs);
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                await Task.Delay(interval, _stopping.Token).ConfigureAwait(false);
                MemberIdentity identity;
                lock (_sync)
                {
                    if (_state != MembershipState.Stable) continue;
                    identity = _identity;
                }
                HeartbeatResponse beat;
                try
                {
                    beat = BrokerErrors.Expect<HeartbeatResponse>(
                        await _transport.Send(new HeartbeatRequest(GroupId, identity.Generation, identity.MemberId), _config.RequestTimeout).ConfigureAwait(false), nameof(HeartbeatRequest));
                }
                catch (BrokerException)
                {
                    continue; // the node may be restarting; the session survives a few missed beats
                }
                if (beat.Error == ErrorCode.None) continue;
                lock (_sync)
                {
                    // A join started meanwhile (or this beat was for an older generation): the join decides now.
                    if (_state != MembershipState.Stable || !ReferenceEquals(_identity, identity)) continue;
                    if (beat.Error is ErrorCode.UnknownMemberId or ErrorCode.UnknownGroup) _identity = MemberIdentity.None;
                    _state = beat.Error == ErrorCode.RebalanceInProgress ? MembershipState.RejoinNeeded : MembershipState.Lost;
                }
                _wake();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Leaves the group so its partitions move at once; best effort within the request timeout.</summary>
    public async Task LeaveAsync()
    {
        _stopping.Cancel();
        var memberId = MemberId;
        if (memberId.Length == 0) return;
        try
        {
            await _transport.Send(new LeaveGroupRequest(GroupId, memberId), _config.RequestTimeout).ConfigureAwait(false);
        }
        catch (BrokerException)
        {
            // The coordinator will expire the session instead.
        }
        SetIdentity(MemberIdentity.None);
    }

    public void Dispose() => _stopping.Cancel();
}

/// <summary>Where a member is in its group; see <see cref="GroupMembership"/> for the transitions.</summary>
internal enum MembershipState
{
    /// <summary>Must (re)join: not joined yet, the subscription changed, or the coordinator started a rebalance.</summary>
    RejoinNeeded,
    /// <summary>The coordinator dropped this member (session expired, group gone): rejoin, owning nothing.</summary>
    Lost,
    /// <summary>A join and sync run in the background.</summary>
    Joining,
    /// <summary>Joining, and the subscription changed meanwhile: rejoin once this join ends.</summary>
    JoiningStale,
    /// <summary>Assigned in the current generation; heartbeats keep the session.</summary>
    Stable,
}

/// <summary>Who this member is in its group, replaced as a whole so readers never see one join's id with another's generation.</summary>
internal sealed record MemberIdentity(string MemberId, int Generation, bool Cooperative)
{
    public static readonly MemberIdentity None = new("", -1, false);
}
