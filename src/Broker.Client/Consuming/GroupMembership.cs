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
    private IReadOnlyList<TopicPartitionId> _owned = [];
    private (int Generation, IReadOnlyList<TopicPartitionId> Partitions)? _newAssignment;
    private BrokerException? _fatal;
    private bool _joining;
    private bool _rejoinNeeded = true;
    private bool _stable;
    private bool _membershipLost;
    private Task _heartbeats = Task.CompletedTask;

    public GroupMembership(IBrokerTransport transport, ConsumerConfig config, string[] assignors, Action wake)
    {
        _transport = transport;
        _config = config;
        _assignors = assignors;
        _wake = wake;
    }

    public string GroupId => _config.GroupId!;

    public string MemberId { get; private set; } = "";

    public int Generation { get; private set; } = -1;

    /// <summary>The group rebalances incrementally (the chosen assignor is cooperative-sticky).</summary>
    public bool Cooperative { get; private set; }

    /// <summary>The coordinator asked for a rejoin (or this member was dropped) and no join is running yet.</summary>
    public bool RejoinNeeded
    {
        get { lock (_sync) return _rejoinNeeded && !_joining; }
    }

    public void Start(IReadOnlyList<string> topics)
    {
        lock (_sync)
        {
            _topics = topics;
            _rejoinNeeded = true;
            if (_heartbeats.IsCompleted) _heartbeats = Task.Run(HeartbeatLoopAsync);
        }
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

    public bool TryTakeAssignment(out IReadOnlyList<TopicPartitionId> partitions)
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
    public void Requeue(IReadOnlyList<TopicPartitionId> partitions)
    {
        lock (_sync) _newAssignment ??= (Generation, partitions);
    }

    /// <summary>True once after the coordinator dropped this member (its partitions are no longer its own).</summary>
    public bool TakeMembershipLost()
    {
        lock (_sync)
        {
            var lost = _membershipLost;
            _membershipLost = false;
            return lost;
        }
    }

    /// <summary>
    /// Called by the consumer thread once it has revoked what it must (everything, in an eager group): joins and
    /// syncs in the background, telling the group which partitions it still <paramref name="owned"/>.
    /// </summary>
    public void StartJoin(IReadOnlyList<TopicPartitionId> owned)
    {
        lock (_sync)
        {
            if (_joining) return;
            _joining = true;
            _rejoinNeeded = false;
            _stable = false;
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
            lock (_sync) _joining = false;
        }
    }

    private static bool IsFatal(ErrorCode error) =>
        error is ErrorCode.InconsistentGroupProtocol or ErrorCode.InvalidSessionTimeout or ErrorCode.InvalidGroupId or ErrorCode.InvalidRequest;

    /// <summary>One join + sync round; false means "try again" (the group moved on meanwhile).</summary>
    private async Task<bool> TryJoinAndSyncAsync()
    {
        IReadOnlyList<string> topics;
        IReadOnlyList<TopicPartitionId> owned;
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
            MemberId = "";
            return false;
        }
        BrokerErrors.ThrowIfFailed(joined);
        MemberId = joined.MemberId;
        Generation = joined.GenerationId;
        Cooperative = string.Equals(joined.ProtocolName, "cooperative-sticky", StringComparison.OrdinalIgnoreCase);

        var synced = BrokerErrors.Expect<SyncGroupResponse>(
            await _transport.Send(new SyncGroupRequest(GroupId, joined.GenerationId, joined.MemberId, []), _config.RequestTimeout).ConfigureAwait(false), nameof(SyncGroupRequest));
        if (synced.Error is ErrorCode.RebalanceInProgress or ErrorCode.IllegalGeneration) return false;
        if (synced.Error == ErrorCode.UnknownMemberId)
        {
            MemberId = "";
            return false;
        }
        BrokerErrors.ThrowIfFailed(synced);

        var partitions = ConsumerProtocol.DecodeAssignment(synced.Assignment);
        lock (_sync)
        {
            _newAssignment = (joined.GenerationId, partitions);
            _stable = true;
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
                bool stable;
                lock (_sync) stable = _stable && !_joining;
                if (!stable) continue;
                HeartbeatResponse beat;
                try
                {
                    beat = BrokerErrors.Expect<HeartbeatResponse>(
                        await _transport.Send(new HeartbeatRequest(GroupId, Generation, MemberId), _config.RequestTimeout).ConfigureAwait(false), nameof(HeartbeatRequest));
                }
                catch (BrokerException)
                {
                    continue; // the node may be restarting; the session survives a few missed beats
                }
                if (beat.Error == ErrorCode.None) continue;
                if (beat.Error is ErrorCode.UnknownMemberId or ErrorCode.UnknownGroup) MemberId = "";
                lock (_sync)
                {
                    _stable = false;
                    _rejoinNeeded = true;
                    _membershipLost = beat.Error != ErrorCode.RebalanceInProgress;
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
        if (MemberId.Length == 0) return;
        try
        {
            await _transport.Send(new LeaveGroupRequest(GroupId, MemberId), _config.RequestTimeout).ConfigureAwait(false);
        }
        catch (BrokerException)
        {
            // The coordinator will expire the session instead.
        }
        MemberId = "";
    }

    public void Dispose() => _stopping.Cancel();
}
