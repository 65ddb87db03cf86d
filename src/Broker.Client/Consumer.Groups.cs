// The consumer's group side: Subscribe, rebalance callbacks, commits and committed offsets, Close.
using Broker.Client.Consuming;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Client;

public sealed partial class Consumer
{
    private static readonly string[] KnownAssignors = [Wellknown.RangeAssignor, Wellknown.RoundRobinAssignor, Wellknown.StickyAssignor, Wellknown.CooperativeStickyAssignor];

    private GroupMembership? _group;
    private IReadOnlyList<string> _subscription = [];
    private long _nextAutoCommit;

    /// <summary>
    /// Called on the thread that calls Consume when the group gives this consumer partitions, after their
    /// start offsets (committed, or <see cref="ConsumerConfig.AutoOffsetReset"/>) are set.
    /// </summary>
    public event Action<IReadOnlyList<TopicPartition>>? PartitionsAssigned;

    /// <summary>
    /// Called on the thread that calls Consume before this consumer gives partitions up in a rebalance (or on
    /// Close/Unsubscribe), while it still owns them: commit here what you processed. With auto-commit on,
    /// positions are committed just before this is called.
    /// </summary>
    public event Action<IReadOnlyList<TopicPartition>>? PartitionsRevoked;

    /// <summary>The topics this consumer is subscribed to (empty when it uses Assign).</summary>
    public IReadOnlyList<string> Subscription => _subscription;

    /// <summary>This consumer's member id in its group, once it has joined.</summary>
    public string? MemberId => _group?.MemberId is { Length: > 0 } id ? id : null;

    /// <summary>
    /// Joins <see cref="ConsumerConfig.GroupId"/> and consumes the partitions of <paramref name="topics"/> the group
    /// assigns to this consumer; the group rebalances as consumers come and go or topics gain partitions.
    /// Joining happens in the background; Consume returns records once partitions are assigned.
    /// </summary>
    public void Subscribe(IEnumerable<string> topics)
    {
        ArgumentNullException.ThrowIfNull(topics);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (string.IsNullOrEmpty(_config.GroupId))
            throw new BrokerException(ErrorCode.InvalidConfig, "Subscribe needs ConsumerConfig.GroupId (the consumer group to join); without one, use Assign");
        var list = new List<string>();
        foreach (var topic in topics)
        {
            if (string.IsNullOrWhiteSpace(topic)) throw new ArgumentException("topic names must not be empty", nameof(topics));
            if (!list.Contains(topic)) list.Add(topic);
        }
        if (list.Count == 0) throw new ArgumentException("subscribe to at least one topic (or call Unsubscribe)", nameof(topics));
        if (_group is null)
        {
            Unassign();
            _group = new GroupMembership(_transport, _config, Assignors(_config), () => _signal.Release());
        }
        _subscription = list;
        _group.Start(list);
        _signal.Release();
    }

    /// <summary>Subscribes to one topic; see <see cref="Subscribe(IEnumerable{string})"/>.</summary>
    public void Subscribe(string topic) => Subscribe([topic]);

    /// <summary>Gives up the partitions (committing first if auto-commit is on) and leaves the group.</summary>
    public void Unsubscribe()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_group is null) return;
        RevokeAll();
        _group.LeaveAsync().Wait(_config.RequestTimeout);
        _group.Dispose();
        _group = null;
        _subscription = [];
    }

    /// <summary>
    /// Commits, then leaves the group at once so its partitions move to the other members without waiting for
    /// the session timeout, then disposes. Call it from the thread that consumes.
    /// </summary>
    public void Close()
    {
        if (_disposed != 0) return;
        if (_group is not null)
        {
            try
            {
                RevokeAll();
            }
            finally
            {
                _group.LeaveAsync().Wait(_config.RequestTimeout);
            }
        }
        Dispose();
    }

    /// <summary>Commits the position (next offset to read) of every assigned partition and returns what it committed. Throws <see cref="BrokerException"/> if the group refuses.</summary>
    public IReadOnlyList<TopicPartitionOffset> Commit()
    {
        var positions = Positions();
        if (positions.Count > 0) CommitAsync(positions).GetAwaiter().GetResult();
        return positions;
    }

    /// <summary>Commits these offsets (each the next offset to read). Throws <see cref="BrokerException"/>: IllegalGeneration or PartitionNotAssigned after a rebalance, InvalidOffset, ...</summary>
    public void Commit(IEnumerable<TopicPartitionOffset> offsets) => CommitAsync(offsets).GetAwaiter().GetResult();

    /// <summary>Commits "consumed up to and including this record".</summary>
    public void Commit(ConsumeResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Commit([new TopicPartitionOffset(result.Topic, result.Partition, result.Offset + 1)]);
    }

    /// <summary>Commits the current positions without blocking; see <see cref="Commit()"/>.</summary>
    public Task CommitAsync() => CommitAsync(Positions());

    /// <summary>Commits these offsets without blocking; the task fails with <see cref="BrokerException"/> as <see cref="Commit(IEnumerable{TopicPartitionOffset})"/> throws.</summary>
    public async Task CommitAsync(IEnumerable<TopicPartitionOffset> offsets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(offsets);
        var groupId = RequireGroupId();
        var parts = new List<OffsetCommitPartition>();
        foreach (var o in offsets) parts.Add(new OffsetCommitPartition(o.Topic, o.Partition, o.Offset, null));
        if (parts.Count == 0) return;
        // A subscribed member commits in its generation; a consumer that uses Assign commits as the group's
        // outside user, which the broker allows while the group has no members (as Kafka does).
        var (generation, member) = _group?.Identity is { MemberId.Length: > 0 } identity ? (identity.Generation, identity.MemberId) : (-1, "");
        var response = await _transport.RequestAsync<OffsetCommitResponse>(new OffsetCommitRequest(groupId, generation, member, parts), idempotent: false, cancellationToken)
            .ConfigureAwait(false);
        BrokerErrors.ThrowIfFailed(response);
        foreach (var result in response.Results)
        {
            if (result.Error != ErrorCode.None) throw BrokerErrors.From(result.Error, result.ErrorMessage, $"{result.Topic}/{result.Partition}: {result.Error}");
        }
    }

    /// <summary>The group's committed offsets for these partitions; <see cref="Offset.Unset"/> where nothing is committed.</summary>
    public IReadOnlyList<TopicPartitionOffset> Committed(IEnumerable<TopicPartition> partitions, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        List<TopicPartition> wanted = [.. partitions];
        using var cancel = new CancellationTokenSource(timeout);
        var response = _transport.RequestAsync<OffsetFetchResponse>(new OffsetFetchRequest(RequireGroupId(), wanted), idempotent: true, cancel.Token)
            .GetAwaiter().GetResult();
        BrokerErrors.ThrowIfFailed(response);
        var result = new List<TopicPartitionOffset>(response.Offsets.Count);
        foreach (var c in response.Offsets) result.Add(new TopicPartitionOffset(c.Topic, c.Partition, c.Offset < 0 ? Offset.Unset : c.Offset));
        return result;
    }

    // ---- the consumer thread's part of the group protocol (called from Consume) ----

    private void PollGroup()
    {
        var group = _group;
        if (group is null) return;
        if (group.TakeFatalError() is { } fatal) throw fatal;
        if (group.TryTakeAssignment(out var partitions))
        {
            if (group.Cooperative) ApplyIncrementally(group, partitions);
            else ApplyAssignment(group, partitions);
        }
        if (group.RejoinNeeded)
        {
            // Eager: give everything up before rejoining. Cooperative: keep consuming; only what moves is
            // revoked, when the new assignment arrives. A member that lost its membership owns nothing.
            if (!group.Cooperative || group.MembershipLost) RevokeAll();
            group.StartJoin(_assignment);
        }
        MaybeAutoCommit();
    }

    private void ApplyAssignment(GroupMembership group, IReadOnlyList<TopicPartition> partitions)
    {
        var starts = StartOffsets(group, partitions, partitions, out var missing);
        AssignCore(starts);
        FailMissing(group, missing);
        _nextAutoCommit = Environment.TickCount64 + _config.AutoCommitIntervalMs;
        PartitionsAssigned?.Invoke(_assignment);
    }

    /// <summary>
    /// Cooperative: partitions that stay keep their fetchers and positions; those that leave are committed
    /// and revoked; new ones start at their committed offsets. The callbacks see only what changed.
    /// </summary>
    private void ApplyIncrementally(GroupMembership group, IReadOnlyList<TopicPartition> partitions)
    {
        var next = new HashSet<TopicPartition>(partitions);
        var revoked = new List<TopicPartition>();
        foreach (var tp in _assignment)
            if (!next.Contains(tp)) revoked.Add(tp);
        var added = new List<TopicPartition>();
        foreach (var p in partitions)
            if (!_fetchers.ContainsKey(p)) added.Add(p);

        if (revoked.Count > 0)
        {
            if (_config.EnableAutoCommit) CommitQuietly(revoked);
            PartitionsRevoked?.Invoke(revoked);
            RemovePartitions(revoked);
        }
        var starts = StartOffsets(group, added, partitions, out var missing);
        foreach (var tpo in starts)
        {
            var fetcher = new PartitionFetcher(tpo.Topic, tpo.Partition, tpo.Offset);
            _fetchers.Add(tpo.TopicPartition, fetcher);
            _order.Add(fetcher);
        }
        _assignment = [.. _fetchers.Keys];
        foreach (var tpo in starts) MaybeFetch(_fetchers[tpo.TopicPartition]);
        FailMissing(group, missing);
        var addedPartitions = new List<TopicPartition>(starts.Count);
        foreach (var tpo in starts) addedPartitions.Add(tpo.TopicPartition);
        PartitionsAssigned?.Invoke(addedPartitions);
    }

    private void RemovePartitions(List<TopicPartition> gone)
    {
        foreach (var tp in gone)
        {
            if (!_fetchers.Remove(tp, out var fetcher)) continue;
            fetcher.Detached = true;
            _order.Remove(fetcher);
            _cursor.ClearIf(fetcher);
        }
        _nextFetcher = 0;
        _assignment = [.. _fetchers.Keys];
    }

    /// <summary>Commits the positions of <paramref name="partitions"/> before they are given up; a refusal is not an error here.</summary>
    private void CommitQuietly(IReadOnlyList<TopicPartition> partitions)
    {
        var positions = new List<TopicPartitionOffset>(partitions.Count);
        foreach (var tp in partitions)
            if (_fetchers.TryGetValue(tp, out var f) && f.IsResolved) positions.Add(new TopicPartitionOffset(tp.Topic, tp.Partition, f.Position));
        try
        {
            if (positions.Count > 0) CommitAsync(positions).GetAwaiter().GetResult();
        }
        catch (BrokerException)
        {
            // The group already moved on (stale generation): the new owner starts from the last good commit,
            // so records may be read twice but none is skipped.
        }
    }

    /// <summary>Where each partition starts: the group's committed offset, else <see cref="ConsumerConfig.AutoOffsetReset"/>.</summary>
    /// <remarks>If the offsets cannot be read, <paramref name="assignment"/> (the whole new assignment) is put back to apply on the next poll.</remarks>
    private List<TopicPartitionOffset> StartOffsets(GroupMembership group, IReadOnlyList<TopicPartition> partitions, IReadOnlyList<TopicPartition> assignment, out List<TopicPartition> missing)
    {
        IReadOnlyList<CommittedOffset> committed;
        try
        {
            committed = partitions.Count == 0
                ? []
                : _transport.RequestAsync<OffsetFetchResponse>(new OffsetFetchRequest(group.GroupId, [.. partitions]), idempotent: true, _stopping.Token)
                    .GetAwaiter().GetResult().Offsets;
        }
        catch (BrokerException)
        {
            group.Requeue(assignment);
            throw;
        }

        var starts = new List<TopicPartitionOffset>(partitions.Count);
        missing = [];
        foreach (var p in partitions)
        {
            var offset = -1L;
            foreach (var c in committed)
                if (c.Topic == p.Topic && c.Partition == p.Partition) offset = c.Offset;
            if (offset < 0)
            {
                if (_config.AutoOffsetReset == AutoOffsetReset.Error) missing.Add(p);
                offset = _config.AutoOffsetReset == AutoOffsetReset.Earliest ? Offset.Beginning : Offset.End;
            }
            starts.Add(new TopicPartitionOffset(p.Topic, p.Partition, offset));
        }
        return starts;
    }

    private void FailMissing(GroupMembership group, List<TopicPartition> missing)
    {
        foreach (var tp in missing)
        {
            var fetcher = _fetchers[tp];
            fetcher.Error = new BrokerException(ErrorCode.NoOffsetForPartition,
                $"group {group.GroupId} has no committed offset for {tp} and AutoOffsetReset is Error; commit or reset one (`broker groups reset-offsets {group.GroupId} --topic {tp.Topic} --to-earliest`) or use Earliest/Latest");
            fetcher.ErrorIsSticky = true;
        }
    }

    /// <summary>Before giving partitions up: commit (auto-commit), let the user commit (callback), then stop fetching them.</summary>
    private void RevokeAll()
    {
        var owned = _assignment;
        if (owned.Length == 0) return;
        if (_config.EnableAutoCommit && _group is { MemberId.Length: > 0 }) CommitQuietly(owned);
        PartitionsRevoked?.Invoke(owned);
        Unassign();
    }

    private void MaybeAutoCommit()
    {
        if (!_config.EnableAutoCommit || _group is not { MemberId.Length: > 0 } || _assignment.Length == 0) return;
        var now = Environment.TickCount64;
        if (now < _nextAutoCommit) return;
        _nextAutoCommit = now + _config.AutoCommitIntervalMs;
        var positions = Positions();
        if (positions.Count == 0) return;
        // Fire and forget, like Kafka's auto-commit: a failure only means the next commit covers more.
        CommitAsync(positions).ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
    }

    private List<TopicPartitionOffset> Positions()
    {
        var positions = new List<TopicPartitionOffset>(_order.Count);
        foreach (var fetcher in _order)
            if (fetcher.IsResolved) positions.Add(new TopicPartitionOffset(fetcher.Topic, fetcher.Partition, fetcher.Position));
        return positions;
    }

    private string RequireGroupId() =>
        string.IsNullOrEmpty(_config.GroupId)
            ? throw new BrokerException(ErrorCode.InvalidConfig, "committed offsets belong to a consumer group: set ConsumerConfig.GroupId")
            : _config.GroupId;

    /// <summary>Leaves the group without committing (Dispose may run on another thread than Consume).</summary>
    private void LeaveGroupQuietly()
    {
        var group = _group;
        if (group is null) return;
        _group = null;
        group.LeaveAsync().Wait(_config.RequestTimeout);
        group.Dispose();
    }

    private static string[] Assignors(ConsumerConfig config)
    {
        var names = new List<string>();
        foreach (var part in (config.PartitionAssignmentStrategy ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            names.Add(part.ToLowerInvariant());
        return [.. names];
    }

    private static void ValidateGroupSettings(ConsumerConfig config)
    {
        static BrokerException Invalid(string what) => new(ErrorCode.InvalidConfig, what);
        if (config.GroupId is { Length: 0 }) throw Invalid("GroupId must not be empty (leave it null for a consumer without a group)");
        var assignors = Assignors(config);
        if (assignors.Length == 0) throw Invalid($"PartitionAssignmentStrategy must name at least one of {string.Join(", ", KnownAssignors)}");
        foreach (var name in assignors)
        {
            if (Array.IndexOf(KnownAssignors, name) < 0)
                throw Invalid($"unknown assignor '{name}' in PartitionAssignmentStrategy; use {string.Join(", ", KnownAssignors)}");
        }
        if (config.SessionTimeoutMs < 1) throw Invalid($"SessionTimeoutMs must be positive, got {config.SessionTimeoutMs}");
        if (config.HeartbeatIntervalMs < 1 || config.HeartbeatIntervalMs >= config.SessionTimeoutMs)
            throw Invalid($"HeartbeatIntervalMs ({config.HeartbeatIntervalMs}) must be positive and below SessionTimeoutMs ({config.SessionTimeoutMs})");
        if (config.RebalanceTimeoutMs < 1) throw Invalid($"RebalanceTimeoutMs must be positive, got {config.RebalanceTimeoutMs}");
        if (config.AutoCommitIntervalMs < 1) throw Invalid($"AutoCommitIntervalMs must be positive, got {config.AutoCommitIntervalMs}");
        if (!Enum.IsDefined(config.AutoOffsetReset)) throw Invalid($"AutoOffsetReset must be Latest, Earliest or Error, got {config.AutoOffsetReset}");
    }
}
