using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Server.Membership;
using Broker.Server.Metadata;

namespace Broker.Server.Partitions;

// Leading: election, appends with acks, the ISR and the high watermark, serving followers' fetches.
public sealed partial class PartitionActor
{
    private readonly Dictionary<int, FollowerProgress> _followers = new();
    private readonly Queue<(long EndOffset, long BaseOffset, long LogAppendTime, IActorRef ReplyTo)> _ackWaiters = new();
    private readonly Dictionary<long, (ReplicaFetch Request, IActorRef ReplyTo)> _waitingReplicaFetches = new();
    private IActorRef? _entity;
    private bool _isLeader;
    private int _leaderEpoch = -1;
    private PartitionState? _state;             // the committed leader/ISR state this leader wrote
    private ImmutableArray<int>? _proposedIsr;  // an ISR change being written; until it lands, HW counts both sets
    private bool _isrWriteInFlight;
    private long _nextOffset;                   // next offset to assign, ahead of _logEnd while appends are in flight
    private Action? _whenAppendsLanded;         // what waits for the in-flight appends of an ended leadership

    private static long NowMs => Environment.TickCount64;

    /// <summary>The ISR as the high watermark must see it: the committed set plus any member being added or removed (Kafka's "maximal ISR").</summary>
    private IEnumerable<int> MaximalIsr
    {
        get
        {
            if (_state is null) yield break;
            foreach (var id in _state.Isr) yield return id;
            if (_proposedIsr is not { } proposed) yield break;
            foreach (var id in proposed)
                if (!_state.Isr.Contains(id)) yield return id;
        }
    }

    // ---- election ----

    private void Elect(LeadPartition lead)
    {
        _entity = lead.Entity;
        Context.Watch(lead.Entity);
        var live = LiveNodes.Of(Context.System);
        var replicas = _descriptor.ReplicasOf(_partition);
        var store = _store;
        var me = _nodeId;
        var topicId = _descriptor.TopicId;
        var partition = _partition;
        var unclean = _config.UncleanLeaderElection;
        ElectAsync(store, topicId, partition, me, replicas, unclean, live).PipeTo(Self);
        Become(() =>
        {
            Command<StateWritten>(OnElected);
            Command<RetryTick>(t => t.What == "elect", _ => Elect(new LeadPartition(_entity!)));
            Command<ResignLeadership>(r => OnResign(r.Entity));
            Command<Terminated>(t => OnResign(t.ActorRef));
            Command<LeadPartition>(l => _entity = l.Entity);
            Command<ReplicaFetchResult>(_ => { });
            Command<ReplicaFetchTimedOut>(_ => { });
            HandleCommon();
            CommandAny(_ => Stash.Stash());
        });
    }

    private static async Task<StateWritten> ElectAsync(MetadataStore store, string topicId, int partition, int me,
        ImmutableArray<int> replicas, bool unclean, LiveNodes live)
    {
        try
        {
            var key = PartitionStateTable.KeyOf(topicId, partition);
            var current = (await store.PartitionsAsync(majority: true).ConfigureAwait(false)).Find(topicId, partition)
                ?? new PartitionState(0, 0, PartitionState.NoLeader, replicas);
            var inSync = current.InIsr(me);
            if (!inSync && !(unclean && replicas.Contains(me)))
                return new StateWritten(null, $"node {me} is not in the ISR [{string.Join(",", current.Isr)}]", false, current);
            // The new ISR: this node and the old members that are still alive (a dead one rejoins once caught up).
            var isr = ImmutableArray.CreateBuilder<int>();
            isr.Add(me);
            foreach (var id in current.Isr)
                if (id != me && live.IsAlive(id) && replicas.Contains(id)) isr.Add(id);
            var next = new PartitionState(current.LeaderEpoch + 1, 0, me, inSync ? isr.ToImmutable() : ImmutableArray.Create(me));
            await store.UpdatePartitionsAsync(table =>
            {
                if (table.Get(key) is { } now && now.CompareTo(current) > 0)
                    throw new MetadataConflictException($"partition state moved on to {now} during the election");
                return table.Put(key, next);
            }).ConfigureAwait(false);
            // Two elections racing from stale views resolve by the merge order; read back to learn who won.
            var after = (await store.PartitionsAsync(majority: true).ConfigureAwait(false)).Find(topicId, partition);
            return after is not null && after.CompareTo(next) == 0
                ? new StateWritten(next, null, false, null)
                : new StateWritten(null, "another election won", true, after);
        }
        catch (MetadataConflictException ex)
        {
            return new StateWritten(null, ex.Message, true, null);
        }
        catch (Exception ex)
        {
            return new StateWritten(null, ex.Message, false, null);
        }
    }

    private void OnElected(StateWritten written)
    {
        if (written.State is not null && _nextOffset > _logEnd)
        {
            // Appends of an earlier leadership here are still being written: the new epoch starts after them.
            WhenAppendsLanded(() => OnElected(written));
            return;
        }
        if (written.State is not { } state)
        {
            if (written.Conflict)
            {
                // Lost to a concurrent or late write (another home's election or ISR change). The leader entity is
                // still here, so nobody else leads it: try again after a pause rather than answer NotLeader forever.
                var retryIn = ElectionRetryDelay();
                _log.Info("partition {0}: election on node {1} lost ({2}); following, and trying again in {3} ms while the leader entity is here",
                    Name, _nodeId, written.Failure, (int)retryIn.TotalMilliseconds);
                Following();
                Timers.StartSingleTimer("elect", new RetryTick("elect"), retryIn);
                Stash.UnstashAll();
            }
            else if (written.Newer is not null)
            {
                NotEligible(written.Failure!);
            }
            else
            {
                _log.Warning("partition {0}: election failed ({1}); retrying", Name, written.Failure);
                Timers.StartSingleTimer("elect", new RetryTick("elect"), TimeSpan.FromSeconds(1));
            }
            return;
        }
        Persist(new LeaderEpochStarted(state.LeaderEpoch, _logEnd), e =>
        {
            _epochs.Assign(e.Epoch, e.StartOffset);
            _leaderEpoch = e.Epoch;
            _state = state;
            _proposedIsr = null;
            _isrWriteInFlight = false;
            _isLeader = true;
            _nextOffset = _logEnd;
            _followers.Clear();
            var now = NowMs;
            foreach (var id in _descriptor.ReplicasOf(_partition))
                if (id != _nodeId) _followers[id] = new FollowerProgress(id, now);
            _log.Info("partition {0}: node {1} leads in epoch {2} from offset {3} (high watermark {4}), ISR [{5}]",
                Name, _nodeId, e.Epoch, _logEnd, _highWatermark, string.Join(",", state.Isr));
            Leading();
            UpdateHighWatermark();
            TellFollowersToFetch(e.Epoch);
            Stash.UnstashAll();
        });
    }

    private static TimeSpan ElectionRetryDelay() => TimeSpan.FromMilliseconds(1000 + Random.Shared.Next(500));

    /// <summary>
    /// Runs <paramref name="then"/> now if no append of this replica is in flight, else once the last one has been
    /// written and indexed: a replica that stopped leading must not fetch from its new leader (or start a new epoch)
    /// at a log end that its own in-flight writes will still extend, or two batches would get the same offsets.
    /// </summary>
    private void WhenAppendsLanded(Action then)
    {
        if (_nextOffset <= _logEnd)
        {
            then();
            return;
        }
        _whenAppendsLanded = then;
    }

    private void RunIfAppendsLanded()
    {
        if (_whenAppendsLanded is not { } pending || _nextOffset > _logEnd) return;
        _whenAppendsLanded = null;
        pending();
    }

    private void TellFollowersToFetch(int epoch)
    {
        var live = LiveNodes.Of(Context.System);
        var elected = new LeaderElected(_topic, _partition, epoch, _nodeId);
        foreach (var id in _followers.Keys)
        {
            if (live.AddressOf(id) is { } address)
                Context.ActorSelection($"{address}/user/{ReplicaManagerActor.Name}/{Self.Path.Name}").Tell(elected);
        }
    }

    /// <summary>The entity was placed here but this replica may not lead: refuse requests; the allocation strategy moves the entity.</summary>
    private void NotEligible(string why)
    {
        _log.Warning("partition {0}: node {1} may not lead ({2}); refusing requests until the leader moves", Name, _nodeId, why);
        Timers.StartSingleTimer("elect", new RetryTick("elect"), TimeSpan.FromSeconds(2));
        Become(() =>
        {
            Command<RetryTick>(t => t.What == "elect", _ => Elect(new LeadPartition(_entity!)));
            Command<ResignLeadership>(r => OnResign(r.Entity));
            Command<Terminated>(t => OnResign(t.ActorRef));
            Command<LeadPartition>(l => _entity = l.Entity);
            HandleCommon();
            CommandAny(m => RefuseNotLeader(m, why));
        });
        Stash.UnstashAll();
    }

    private void OnResign(IActorRef entity)
    {
        if (_entity is null || !entity.Equals(_entity)) return;
        StepDown("the leader entity left this node");
        Following();
        Stash.UnstashAll();
    }

    /// <summary>Gives up leadership: every waiting producer and fetch is told, then the replica follows.</summary>
    private void StepDown(string why)
    {
        if (_entity is not null) Context.Unwatch(_entity);
        _entity = null;
        Timers.Cancel("elect");
        Timers.Cancel(IsrTick.Instance);
        if (!_isLeader) return;
        _log.Info("partition {0}: node {1} stops leading epoch {2} ({3})", Name, _nodeId, _leaderEpoch, why);
        _isLeader = false;
        _proposedIsr = null;
        FailWaiters(ErrorCode.NotLeader, $"leadership of {Name} moved ({why}); the batch may or may not be committed");
        Cluster.Get(Context.System).Unsubscribe(Self);
    }

    private void FailWaiters(ErrorCode error, string message)
    {
        while (_ackWaiters.TryDequeue(out var waiter))
            waiter.ReplyTo.Tell(new AppendResult(_topic, _partition, error, message, -1));
        foreach (var (id, (request, replyTo)) in _waitingFetches)
        {
            Timers.Cancel(id);
            replyTo.Tell(FetchError(request, error, message));
        }
        _waitingFetches.Clear();
        foreach (var (id, (request, replyTo)) in _waitingReplicaFetches)
        {
            Timers.Cancel(id);
            replyTo.Tell(new ReplicaFetchResult(request.Topic, request.Partition, request.FetchId, error, message, _leaderEpoch, -1, -1, -1, -1, -1, ReadOnlyMemory<byte>.Empty));
        }
        _waitingReplicaFetches.Clear();
    }

    private void Leading()
    {
        Timers.StartPeriodicTimer(IsrTick.Instance, IsrTick.Instance, _settings.IsrCheckInterval);
        Timers.StartPeriodicTimer(RetentionTick.Instance, RetentionTick.Instance, _settings.RetentionCheckInterval);
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.MemberRemoved));
        Become(() =>
        {
            Command<AppendBatch>(Append);
            Command<FetchRequest>(f =>
            {
                if (!RefuseOtherEpoch(f, Sender)) Fetch(f, Sender);
            });
            Command<ListOffsetsRequest>(ListOffsets);
            Command<DeleteRecordsRequest>(DeleteRecords);
            Command<OffsetForLeaderEpochRequest>(OffsetForLeaderEpoch);
            Command<DescribeProducersRequest>(DescribeProducers);
            Command<GetPartitionInfo>(_ => Sender.Tell(Info(ErrorCode.None, null)));
            Command<ReplicaFetch>(f => ServeReplicaFetch(f, Sender));
            Command<IsrTick>(_ => CheckIsr());
            Command<ClusterEvent.UnreachableMember>(_ => CheckIsr());
            Command<ClusterEvent.MemberRemoved>(_ => CheckIsr());
            Command<StateWritten>(OnIsrWritten);
            Command<ResignLeadership>(r => OnResign(r.Entity));
            Command<Terminated>(t => OnResign(t.ActorRef));
            Command<LeadPartition>(l =>
            {
                if (_entity is not null && !_entity.Equals(l.Entity)) Context.Unwatch(_entity);
                _entity = l.Entity;
                Context.Watch(l.Entity);
            });
            Command<ReplicaFetchResult>(_ => { });
            Command<ReplicaFetchTimedOut>(_ => { });
            Command<RetryTick>(_ => { });
            HandleCommon();
        });
    }

    // ---- appends ----

    private void Append(AppendBatch command)
    {
        if (command.LeaderEpoch > _leaderEpoch)
        {
            Reply(command, ErrorCode.NotLeader, $"{Name}: node {_nodeId} leads epoch {_leaderEpoch}, but leader epoch {command.LeaderEpoch} exists; this leader is stale, nothing was written. Retry: the request goes to the current leader");
            return;
        }
        if (command.TopicId != _topicId)
        {
            Reply(command, ErrorCode.NotLeader, $"{Name}: this replica's log belongs to another incarnation of the topic than {command.TopicId} (it was deleted and created again moments ago); retry shortly");
            return;
        }
        var verdict = _validator.Check(command.Batch, _config, Name);
        if (!verdict.IsAccepted)
        {
            Reply(command, verdict.Error, verdict.Message!, verdict.RecordErrors);
            return;
        }
        var header = verdict.Header;
        var isrSize = _state!.Isr.Length;
        if (command.Acks == -1 && isrSize < _config.MinInsyncReplicas)
        {
            Reply(command, ErrorCode.NotEnoughReplicas,
                $"{Name} has {isrSize} in-sync replica(s) [{string.Join(",", _state.Isr)}], fewer than min.insync.replicas={_config.MinInsyncReplicas}; nothing was written. Retry once the other replicas are back, or produce with acks=1");
            return;
        }

        if (!CheckSequence(command, header)) return;

        // The copy the journal writes and the tail cache keeps for seconds. Allocated on the pinned object
        // heap, which the GC never compacts: in gen0 it would be copied twice (into gen1, then gen2) before
        // it died, and under load those gen1 collections cost the node ~15% of its time in pauses.
        var bytes = GC.AllocateUninitializedArray<byte>(command.Batch.Length, pinned: true);
        command.Batch.Span.CopyTo(bytes);
        var baseOffset = _nextOffset;
        RecordBatch.SetBaseOffset(bytes, baseOffset);
        RecordBatch.SetPartitionLeaderEpoch(bytes, _leaderEpoch); // outside the CRC, as in Kafka
        // The timestamps the node computed, never the client's header: followers store these bytes, and the index,
        // retention and ListOffsets read the same value on every replica (CRC recomputed only if it changed).
        RecordBatch.SetMaxTimestamp(bytes, verdict.LogAppendTime, verdict.MaxTimestamp);
        var logAppendTime = verdict.LogAppendTime ? verdict.MaxTimestamp : -1;
        _nextOffset += header.RecordCount;
        _producers.Record(header with { MaxTimestamp = verdict.MaxTimestamp }, baseOffset); // now, not once persisted: a retry arriving meanwhile is a duplicate
        var replyTo = Sender;
        var acks = command.Acks;
        var epoch = _leaderEpoch;
        var persistStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        PersistAsync(new BatchAppended(bytes), e =>
        {
            _metrics.JournalAppended(persistStarted);
            Appended(e.Batch, LastSequenceNr);
            if (!_isLeader || _leaderEpoch != epoch)
            {
                if (!replyTo.IsNobody()) replyTo.Tell(new AppendResult(_topic, _partition, ErrorCode.NotLeader, $"leadership of {Name} moved while the batch was written; it may or may not be committed", -1));
                RunIfAppendsLanded();
                return;
            }
            if (acks == -1) _ackWaiters.Enqueue((_logEnd, baseOffset, logAppendTime, replyTo));
            else if (!replyTo.IsNobody()) replyTo.Tell(new AppendResult(_topic, _partition, ErrorCode.None, null, baseOffset) { LogAppendTime = logAppendTime });
            UpdateHighWatermark();
            ServeWaitingReplicaFetches();
            MaybeSnapshot();
        });
    }

    /// <summary>
    /// An idempotent producer's batch (KIP-98): true to append it. A retry of a batch already here is answered
    /// with the offsets it got then (once they are as committed as the request's acks ask), a gap or a stale
    /// epoch is refused; either way nothing is written.
    /// </summary>
    private bool CheckSequence(AppendBatch command, in RecordBatchHeader header)
    {
        switch (_producers.Check(header, out var first))
        {
            case SequenceCheck.Append:
                return true;
            case SequenceCheck.Duplicate:
                _log.Debug("partition {0}: producer {1} sent sequence {2} again; answering with offset {3}", Name, header.ProducerId, header.BaseSequence, first.BaseOffset);
                if (command.Acks == 0 || Sender.IsNobody()) return false;
                var end = first.LastOffset + 1;
                if (end <= _highWatermark || (command.Acks == 1 && end <= _logEnd))
                    Sender.Tell(new AppendResult(_topic, _partition, ErrorCode.None, null, first.BaseOffset));
                else
                    _ackWaiters.Enqueue((end, first.BaseOffset, -1, Sender)); // the first copy is still being written or replicated
                return false;
            case SequenceCheck.OutOfOrder:
                Reply(command, ErrorCode.OutOfOrderSequence, $"{Name}: producer {header.ProducerId} (epoch {header.ProducerEpoch}) sent sequence {header.BaseSequence}, which does not follow its previous batch here; nothing was written. The producer must start a new epoch (Kafka clients do this themselves)");
                return false;
            case SequenceCheck.StaleEpoch:
                Reply(command, ErrorCode.InvalidProducerEpoch, $"{Name}: producer {header.ProducerId} sent epoch {header.ProducerEpoch}, older than the epoch this partition has seen from it; nothing was written. A newer instance of this producer has taken over");
                return false;
            default:
                Reply(command, ErrorCode.CorruptRecord, $"rejected batch for {Name}: it names producer {header.ProducerId} but no base sequence (-1); an idempotent producer numbers its batches from 0");
                return false;
        }
    }

    private void Reply(AppendBatch command, ErrorCode error, string message, IReadOnlyList<RecordError>? recordErrors = null)
    {
        _log.Warning("partition {0}: {1}", Name, message);
        if (!Sender.IsNobody()) Sender.Tell(new AppendResult(command.Topic, command.Partition, error, message, -1) { RecordErrors = recordErrors });
    }

    /// <summary>HW = the lowest log end among the (maximal) ISR; moving it releases acks=all producers and waiting consumers.</summary>
    private void UpdateHighWatermark()
    {
        var hw = _logEnd;
        foreach (var id in MaximalIsr)
        {
            if (id == _nodeId) continue;
            // A member that has not fetched from this leader yet holds the high watermark where it is.
            var end = _followers.TryGetValue(id, out var progress) && progress.LogEndOffset >= 0 ? progress.LogEndOffset : _highWatermark;
            hw = Math.Min(hw, end);
        }
        if (hw > _highWatermark)
        {
            _highWatermark = hw;
            ServeWaitingFetches();
        }
        while (_ackWaiters.TryPeek(out var waiter) && waiter.EndOffset <= _highWatermark)
        {
            _ackWaiters.Dequeue();
            var isr = _state!.Isr.Length;
            waiter.ReplyTo.Tell(isr >= _config.MinInsyncReplicas
                ? new AppendResult(_topic, _partition, ErrorCode.None, null, waiter.BaseOffset) { LogAppendTime = waiter.LogAppendTime }
                : new AppendResult(_topic, _partition, ErrorCode.NotEnoughReplicasAfterAppend, $"{Name} is stored on the leader, but the ISR shrank to {isr} replica(s) [{string.Join(",", _state.Isr)}] (min.insync.replicas={_config.MinInsyncReplicas}) while waiting; it may be lost if the leader fails. Retrying may duplicate it", -1));
        }
    }

    // ---- followers ----

    private void ServeReplicaFetch(ReplicaFetch fetch, IActorRef replyTo)
    {
        if (fetch.ReplicaId == _nodeId) return; // our own fetch from before we led
        if (fetch.TopicId != _topicId)
        {
            replyTo.Tell(ReplicaError(fetch, ErrorCode.UnknownTopic, $"leader has topic incarnation {_topicId}, follower asked for {fetch.TopicId}"));
            return;
        }
        if (!_descriptor.ReplicasOf(_partition).Contains(fetch.ReplicaId))
        {
            replyTo.Tell(ReplicaError(fetch, ErrorCode.NotLeader, $"node {fetch.ReplicaId} is not a replica of {Name}"));
            return;
        }
        // Divergence (KIP-101/279): where does the follower's last epoch end here?
        if (fetch.LastFetchedEpoch >= 0 && fetch.LogEndOffset > 0)
        {
            var (epoch, end) = _epochs.EndOffsetFor(fetch.LastFetchedEpoch, _logEnd);
            if (end < fetch.LogEndOffset || epoch < fetch.LastFetchedEpoch)
            {
                replyTo.Tell(new ReplicaFetchResult(_topic, _partition, fetch.FetchId, ErrorCode.None, null, _leaderEpoch, _nodeId,
                    _highWatermark, _logStart, Math.Max(epoch, 0), end < 0 ? _logStart : end, ReadOnlyMemory<byte>.Empty));
                return;
            }
        }
        if (fetch.LogEndOffset > _logEnd)
        {
            replyTo.Tell(new ReplicaFetchResult(_topic, _partition, fetch.FetchId, ErrorCode.None, null, _leaderEpoch, _nodeId,
                _highWatermark, _logStart, _leaderEpoch, _logEnd, ReadOnlyMemory<byte>.Empty));
            return;
        }

        if (!_followers.TryGetValue(fetch.ReplicaId, out var progress))
            _followers[fetch.ReplicaId] = progress = new FollowerProgress(fetch.ReplicaId, NowMs);
        progress.OnFetch(fetch.LogEndOffset, _logEnd, NowMs);
        MaybeExpandIsr(progress);
        UpdateHighWatermark();

        if (fetch.LogEndOffset < _logEnd)
        {
            SendReplicaBatches(fetch, replyTo);
            return;
        }
        var id = ++_requestIds;
        _waitingReplicaFetches[id] = (fetch, replyTo);
        Timers.StartSingleTimer(id, new FetchWaitExpired(id), TimeSpan.FromMilliseconds(Math.Max(1, fetch.MaxWaitMs)));
    }

    private void SendReplicaBatches(ReplicaFetch fetch, IActorRef replyTo)
    {
        var maxBytes = fetch.MaxBytes <= 0 ? _settings.MaxRequestBytes : Math.Min(fetch.MaxBytes, _settings.MaxRequestBytes);
        Read(fetch.LogEndOffset, maxBytes, _logEnd, (records, failure) => replyTo.Tell(failure is null
            ? new ReplicaFetchResult(_topic, _partition, fetch.FetchId, ErrorCode.None, null, _leaderEpoch, _nodeId, _highWatermark, _logStart, -1, -1, records)
            : ReplicaError(fetch, ErrorCode.Unknown, failure)));
    }

    private ReplicaFetchResult ReplicaError(ReplicaFetch fetch, ErrorCode error, string message) =>
        new(_topic, _partition, fetch.FetchId, error, message, _leaderEpoch, _isLeader ? _nodeId : -1, _highWatermark, _logStart, -1, -1, ReadOnlyMemory<byte>.Empty);

    private void ServeWaitingReplicaFetches()
    {
        if (_waitingReplicaFetches.Count == 0) return;
        foreach (var (id, (fetch, replyTo)) in _waitingReplicaFetches)
        {
            Timers.Cancel(id);
            SendReplicaBatches(fetch, replyTo);
        }
        _waitingReplicaFetches.Clear();
    }

    private void OnReplicaFetchWaitExpired(long id)
    {
        if (!_waitingReplicaFetches.Remove(id, out var waiting)) return;
        var f = waiting.Request;
        waiting.ReplyTo.Tell(new ReplicaFetchResult(_topic, _partition, f.FetchId, ErrorCode.None, null, _leaderEpoch, _nodeId, _highWatermark, _logStart, -1, -1, ReadOnlyMemory<byte>.Empty));
    }

    // ---- ISR ----

    /// <summary>A reassignment added or removed replicas: forget removed followers and drop them from the ISR.</summary>
    private void OnReplicasChanged()
    {
        var replicas = _descriptor.ReplicasOf(_partition);
        foreach (var id in _followers.Keys.ToList())
            if (!replicas.Contains(id)) _followers.Remove(id);
        CheckIsr();
    }

    private void MaybeExpandIsr(FollowerProgress follower)
    {
        if (_state is null || _proposedIsr is not null || _state.InIsr(follower.NodeId)) return;
        // Kafka's rule: caught up to the high watermark and into this leader's epoch.
        if (follower.LogEndOffset < _highWatermark || follower.LogEndOffset < _epochs.LatestEpochStart) return;
        if (!LiveNodes.Of(Context.System).IsAlive(follower.NodeId)) return;
        ProposeIsr(_state.Isr.Add(follower.NodeId), $"node {follower.NodeId} caught up");
    }

    private void CheckIsr()
    {
        if (_state is null || _isrWriteInFlight) return;
        if (_proposedIsr is { } unconfirmed)
        {
            ProposeIsr(unconfirmed, "retrying an unconfirmed change");
            return;
        }
        var live = LiveNodes.Of(Context.System);
        var now = NowMs;
        var keep = ImmutableArray.CreateBuilder<int>();
        var dropped = new List<string>();
        var replicas = _descriptor.ReplicasOf(_partition);
        foreach (var id in _state.Isr)
        {
            if (id == _nodeId) { keep.Add(id); continue; }
            var lagging = _followers.TryGetValue(id, out var p) && now - p.LastCaughtUpMs > _settings.ReplicaLagTimeMax.TotalMilliseconds;
            if (!replicas.Contains(id)) dropped.Add($"node {id} is no longer a replica");
            else if (!live.IsAlive(id)) dropped.Add($"node {id} is down or unreachable");
            else if (lagging) dropped.Add($"node {id} has not caught up for {(now - p!.LastCaughtUpMs) / 1000.0:0.#}s");
            else keep.Add(id);
        }
        if (dropped.Count > 0) ProposeIsr(keep.ToImmutable(), string.Join("; ", dropped));
    }

    /// <summary>Writes a new ISR (compare-and-set on leader epoch and partition epoch, KIP-497); the HW counts both sets until it lands.</summary>
    private void ProposeIsr(ImmutableArray<int> isr, string why)
    {
        var current = _state!;
        var next = current with { PartitionEpoch = current.PartitionEpoch + 1, Isr = isr };
        _proposedIsr = isr;
        _isrWriteInFlight = true;
        _log.Info("partition {0}: ISR [{1}] -> [{2}] ({3})", Name, string.Join(",", current.Isr), string.Join(",", isr), why);
        var key = PartitionStateTable.KeyOf(_descriptor.TopicId, _partition);
        WriteStateAsync(_store, key, current, next).PipeTo(Self);
    }

    private static async Task<StateWritten> WriteStateAsync(MetadataStore store, string key, PartitionState expected, PartitionState next)
    {
        try
        {
            await store.UpdatePartitionsAsync(table =>
            {
                if (table.Get(key) is { } now && now.CompareTo(expected) != 0 && now.CompareTo(next) != 0)
                    throw new MetadataConflictException($"partition state is {now}, expected {expected}");
                return table.Put(key, next);
            }).ConfigureAwait(false);
            return new StateWritten(next, null, false, null);
        }
        catch (MetadataConflictException ex)
        {
            return new StateWritten(null, ex.Message, true, null);
        }
        catch (Exception ex)
        {
            return new StateWritten(null, ex.Message, false, null);
        }
    }

    private void OnIsrWritten(StateWritten written)
    {
        _isrWriteInFlight = false;
        if (written.State is { } state && state.LeaderEpoch == _leaderEpoch)
        {
            _state = state;
            _proposedIsr = null;
            UpdateHighWatermark();
            return;
        }
        if (written.Conflict)
        {
            // A newer leader epoch exists: this leader is fenced.
            _log.Warning("partition {0}: ISR change refused ({1}); a newer leader exists, stepping down", Name, written.Failure);
            StepDown("fenced by a newer leader epoch");
            Following();
            return;
        }
        // Not confirmed by a majority (it may still land): keep counting both sets and write it again at the next check.
        _log.Warning("partition {0}: ISR change not confirmed ({1}); retrying", Name, written.Failure);
    }
}
