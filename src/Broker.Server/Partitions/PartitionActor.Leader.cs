using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Server.Membership;

namespace Broker.Server.Partitions;

// Leading: the election, appends with acks, the ISR and the high watermark, serving followers' fetches. The rules
// are in ElectionRule and LeaderState; this part persists what they decide and sends what they return.
public sealed partial class PartitionActor
{
    private readonly Dictionary<long, (ReplicaFetch Request, IActorRef ReplyTo)> _waitingReplicaFetches = new();
    // Replica fetches with records to send that wait for bytes toward their follower's node (ReplicationBudget), one per node.
    private readonly Dictionary<Address, (ReplicaFetch Request, IActorRef ReplyTo)> _parkedReplicaFetches = new();
    private readonly List<AckRelease<IActorRef>> _released = new();
    private IActorRef? _entity;
    private Action? _whenAppendsLanded;         // what waits for the in-flight appends of an ended leadership

    // ---- election ----

    private void Elect(LeadPartition lead)
    {
        _entity = lead.Entity;
        Context.Watch(lead.Entity);
        var live = LiveNodes.Of(Context.System);
        var replicas = _descriptor.ReplicasOf(_partition);
        var me = _nodeId;
        var unclean = _config.UncleanLeaderElection;
        var isolated = live.SeesMajority ? null : live.Describe();
        _metadata.ElectAsync(_descriptor.TopicId, _partition, replicas, current => ElectionRule.Decide(current, me, replicas, unclean, live.IsAlive, isolated))
            .PipeTo(Self, success: outcome => new ElectionWritten(outcome));
        Become(() =>
        {
            Command<ElectionWritten>(e => OnElected(e.Outcome));
            Command<IsrWritten>(_ => { }); // an earlier leadership's ISR change answered late
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

    private void OnElected(PartitionStateWrite written)
    {
        switch (ElectionRule.After(written, Random.Shared.Next(500)))
        {
            case ElectionRule.Step.Lead lead when _log.AppendsInFlight:
                // Appends of an earlier leadership here are still being written: the new epoch starts after them.
                WhenAppendsLanded(() => OnElected(new PartitionStateWrite.Written(lead.State)));
                return;
            case ElectionRule.Step.Lead lead:
                StartLeading(lead.State);
                return;
            case ElectionRule.Step.FollowAndRetry lost:
                // Lost to a concurrent or late write (another home's election or ISR change). The leader entity is
                // still here, so nobody else leads it: try again after a pause rather than answer NotLeader forever.
                _logger.Info("partition {0}: election on node {1} lost ({2}); following, and trying again in {3} ms while the leader entity is here",
                    Name, _nodeId, lost.Reason, (int)lost.RetryIn.TotalMilliseconds);
                Following();
                Timers.StartSingleTimer("elect", new RetryTick("elect"), lost.RetryIn);
                Stash.UnstashAll();
                return;
            case ElectionRule.Step.RefuseAndRetry refused:
                NotEligible(refused.Reason, refused.RetryIn);
                return;
            case ElectionRule.Step.Retry retry:
                _logger.Warning("partition {0}: election failed ({1}); retrying", Name, retry.Reason);
                Timers.StartSingleTimer("elect", new RetryTick("elect"), retry.RetryIn);
                return;
        }
    }

    private void StartLeading(Metadata.PartitionState state)
    {
        Persist(new LeaderEpochStarted(state.LeaderEpoch, _log.LogEnd), e =>
        {
            _log.Epochs.Assign(e.Epoch, e.StartOffset);
            _log.SettleNextOffset();
            _leader.Start(state, _descriptor.ReplicasOf(_partition));
            _logger.Info("partition {0}: node {1} leads in epoch {2} from offset {3} (high watermark {4}), ISR [{5}]",
                Name, _nodeId, e.Epoch, _log.LogEnd, _log.HighWatermark, string.Join(",", state.Isr));
            Leading();
            UpdateHighWatermark();
            TellFollowersToFetch(e.Epoch);
            Stash.UnstashAll();
        });
    }

    /// <summary>
    /// Runs <paramref name="then"/> now if no append of this replica is in flight, else once the last one has been
    /// written and indexed (<see cref="PartitionLog.AppendsInFlight"/>).
    /// </summary>
    private void WhenAppendsLanded(Action then)
    {
        if (!_log.AppendsInFlight)
        {
            then();
            return;
        }
        _whenAppendsLanded = then;
    }

    private void RunIfAppendsLanded()
    {
        if (_whenAppendsLanded is not { } pending || _log.AppendsInFlight) return;
        _whenAppendsLanded = null;
        pending();
    }

    private void TellFollowersToFetch(int epoch)
    {
        var live = LiveNodes.Of(Context.System);
        var elected = new LeaderElected(_topic, _partition, epoch, _nodeId);
        foreach (var id in _leader.FollowerIds)
        {
            if (live.AddressOf(id) is { } address)
                Context.ActorSelection($"{address}/user/{ReplicaManagerActor.Name}/{Self.Path.Name}").Tell(elected);
        }
    }

    /// <summary>The entity was placed here but this replica may not lead: refuse requests; the allocation strategy moves the entity.</summary>
    private void NotEligible(string why, TimeSpan retryIn)
    {
        _logger.Warning("partition {0}: node {1} may not lead ({2}); refusing requests until the leader moves", Name, _nodeId, why);
        Timers.StartSingleTimer("elect", new RetryTick("elect"), retryIn);
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
        if (!_leader.StepDown()) return;
        _logger.Info("partition {0}: node {1} stops leading epoch {2} ({3})", Name, _nodeId, _leader.Epoch, why);
        FailWaiters(ErrorCode.NotLeader, $"leadership of {Name} moved ({why}); the batch may or may not be committed");
        Cluster.Get(Context.System).Unsubscribe(Self);
    }

    private void FailWaiters(ErrorCode error, string message)
    {
        var failed = _replies.AppendFailed(error, message);
        foreach (var replyTo in _leader.DrainAckWaiters()) replyTo.Tell(failed);
        foreach (var (id, (request, replyTo)) in _waitingFetches)
        {
            Timers.Cancel(id);
            replyTo.Tell(_replies.FetchError(request, error, message));
        }
        _waitingFetches.Clear();
        foreach (var (id, (request, replyTo)) in _waitingReplicaFetches)
        {
            Timers.Cancel(id);
            replyTo.Tell(_replies.ReplicaError(request, error, message));
        }
        _waitingReplicaFetches.Clear();
        foreach (var (_, (request, replyTo)) in _parkedReplicaFetches) replyTo.Tell(_replies.ReplicaError(request, error, message));
        _parkedReplicaFetches.Clear();
        _budget.Withdraw(_budgetWaiter); // its followers fetch from the next leader; what this one sent no longer counts here
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
            Command<GetPartitionInfo>(_ => Sender.Tell(_replies.Info(ErrorCode.None, null)));
            Command<GetLeadership>(g => Sender.Tell(new Leadership(g.RequestId, _leader.Epoch, _log.TopicId ?? "", _log.LogStart, _log.HighWatermark, _log.LogEnd)));
            Command<ReplicaFetch>(f => ServeReplicaFetch(f, Sender));
            Command<IsrTick>(_ => CheckIsr());
            Command<ClusterEvent.UnreachableMember>(_ => CheckIsr());
            Command<ClusterEvent.MemberRemoved>(removed =>
            {
                // Nothing queued toward a removed node will arrive, and its fetches will not be answered.
                _budget.NodeRemoved(removed.Member.Address);
                _parkedReplicaFetches.Remove(removed.Member.Address);
                CheckIsr();
            });
            Command<ReplicationBytesGranted>(g => OnReplicationBytesGranted(g.Node));
            Command<IsrWritten>(w => OnIsrWritten(w.Outcome));
            Command<ElectionWritten>(_ => { });
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
        var fenced = _leader.Fence(command.LeaderEpoch, command.ExactLeaderEpoch, command.TopicId == _log.TopicId);
        if (fenced != AppendAdmission.Admitted)
        {
            Refuse(_replies.AppendRefused(fenced, command, _leader.State!, _config.MinInsyncReplicas));
            return;
        }
        var verdict = _validator.Check(command.Batch, _config, Name);
        if (!verdict.IsAccepted)
        {
            Refuse(_replies.AppendFailed(verdict.Error, verdict.Message!, verdict.RecordErrors));
            return;
        }
        var header = verdict.Header;
        var admission = _leader.CheckMinIsr(command.Acks, _config.MinInsyncReplicas);
        if (admission != AppendAdmission.Admitted)
        {
            Refuse(_replies.AppendRefused(admission, command, _leader.State!, _config.MinInsyncReplicas));
            return;
        }

        if (!CheckSequence(command, header)) return;

        // The copy the journal writes and the tail cache keeps for seconds. Allocated on the pinned object
        // heap, which the GC never compacts: in gen0 it would be copied twice (into gen1, then gen2) before
        // it died, and under load those gen1 collections cost the node ~15% of its time in pauses.
        var bytes = GC.AllocateUninitializedArray<byte>(command.Batch.Length, pinned: true);
        command.Batch.Span.CopyTo(bytes);
        var epoch = _leader.Epoch;
        var baseOffset = _log.AssignOffsets(header.RecordCount);
        RecordBatch.SetBaseOffset(bytes, baseOffset);
        RecordBatch.SetPartitionLeaderEpoch(bytes, epoch); // outside the CRC, as in Kafka
        // The timestamps the node computed, never the client's header: followers store these bytes, and the index,
        // retention and ListOffsets read the same value on every replica (CRC recomputed only if it changed).
        RecordBatch.SetMaxTimestamp(bytes, verdict.LogAppendTime, verdict.MaxTimestamp);
        var logAppendTime = verdict.LogAppendTime ? verdict.MaxTimestamp : -1;
        _log.Producers.Record(header with { MaxTimestamp = verdict.MaxTimestamp }, baseOffset); // now, not once persisted: a retry arriving meanwhile is a duplicate
        var replyTo = Sender;
        var acks = command.Acks;
        var persistStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        PersistAsync(new BatchAppended(bytes), e =>
        {
            _metrics.JournalAppended(persistStarted);
            _log.Appended(e.Batch, LastSequenceNr);
            if (!_leader.StillLeads(epoch))
            {
                if (!replyTo.IsNobody()) replyTo.Tell(_replies.AppendFailed(ErrorCode.NotLeader, $"leadership of {Name} moved while the batch was written; it may or may not be committed"));
                RunIfAppendsLanded();
                return;
            }
            if (acks == -1) _leader.AwaitCommit(_log.LogEnd, baseOffset, logAppendTime, replyTo);
            else if (!replyTo.IsNobody()) replyTo.Tell(_replies.Appended(baseOffset, logAppendTime));
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
        switch (_log.Producers.Check(header, out var first))
        {
            case SequenceCheck.Append:
                return true;
            case SequenceCheck.Duplicate:
                _logger.Debug("partition {0}: producer {1} sent sequence {2} again; answering with offset {3}", Name, header.ProducerId, header.BaseSequence, first.BaseOffset);
                if (command.Acks == 0 || Sender.IsNobody()) return false;
                var end = first.LastOffset + 1;
                if (LeaderState<IActorRef>.Acknowledged(end, command.Acks, _log))
                    Sender.Tell(_replies.Appended(first.BaseOffset));
                else
                    _leader.AwaitCommit(end, first.BaseOffset, -1, Sender); // the first copy is still being written or replicated
                return false;
            case SequenceCheck.OutOfOrder:
                Refuse(_replies.AppendFailed(ErrorCode.OutOfOrderSequence, $"{Name}: producer {header.ProducerId} (epoch {header.ProducerEpoch}) sent sequence {header.BaseSequence}, which does not follow its previous batch here; nothing was written. The producer must start a new epoch (Kafka clients do this themselves)"));
                return false;
            case SequenceCheck.StaleEpoch:
                Refuse(_replies.AppendFailed(ErrorCode.InvalidProducerEpoch, $"{Name}: producer {header.ProducerId} sent epoch {header.ProducerEpoch}, older than the epoch this partition has seen from it; nothing was written. A newer instance of this producer has taken over"));
                return false;
            default:
                Refuse(_replies.AppendFailed(ErrorCode.CorruptRecord, $"rejected batch for {Name}: it names producer {header.ProducerId} but no base sequence (-1); an idempotent producer numbers its batches from 0"));
                return false;
        }
    }

    private void Refuse(AppendResult refusal)
    {
        _logger.Warning("partition {0}: {1}", Name, refusal.ErrorMessage);
        if (!Sender.IsNobody()) Sender.Tell(refusal);
    }

    /// <summary>Moves the high watermark (LeaderState's rule); releases acks=all producers and waiting consumers.</summary>
    private void UpdateHighWatermark()
    {
        if (_leader.UpdateHighWatermark(_log, _config.MinInsyncReplicas, _released)) ServeWaitingFetches();
        if (_released.Count == 0) return;
        foreach (var release in _released)
            release.ReplyTo.Tell(_replies.Released(release.Outcome, release.BaseOffset, release.LogAppendTime, _leader.State!, _config.MinInsyncReplicas));
        _released.Clear();
    }

    // ---- followers ----

    private void ServeReplicaFetch(ReplicaFetch fetch, IActorRef replyTo)
    {
        if (fetch.ReplicaId == _nodeId) return; // our own fetch from before we led
        var node = replyTo.Path.Address;
        // A follower fetches again only once it has the previous answer: that answer's bytes are off the connection.
        _budget.Delivered(node, _budgetWaiter);
        _parkedReplicaFetches.Remove(node); // a parked fetch its follower gave up on; this one keeps its place in line
        DropWaitingReplicaFetches(fetch.ReplicaId);
        AnswerReplicaFetch(fetch, replyTo, node);
        if (!_parkedReplicaFetches.ContainsKey(node)) _budget.CancelWait(node, _budgetWaiter); // answered without waiting
    }

    private void AnswerReplicaFetch(ReplicaFetch fetch, IActorRef replyTo, Address node)
    {
        if (fetch.TopicId != _log.TopicId)
        {
            replyTo.Tell(_replies.ReplicaError(fetch, ErrorCode.UnknownTopic, $"leader has topic incarnation {_log.TopicId}, follower asked for {fetch.TopicId}"));
            return;
        }
        if (!_descriptor.ReplicasOf(_partition).Contains(fetch.ReplicaId))
        {
            replyTo.Tell(_replies.ReplicaError(fetch, ErrorCode.NotLeader, $"node {fetch.ReplicaId} is not a replica of {Name}"));
            return;
        }
        // Divergence (KIP-101/279): where does the follower's last epoch end here?
        if (_log.DivergenceFrom(fetch.LastFetchedEpoch, fetch.LogEndOffset) is { } diverged)
        {
            replyTo.Tell(_replies.ReplicaFetched(fetch, ReadOnlyMemory<byte>.Empty, diverged.Epoch, diverged.EndOffset));
            return;
        }
        if (fetch.LogEndOffset > _log.LogEnd)
        {
            replyTo.Tell(_replies.ReplicaFetched(fetch, ReadOnlyMemory<byte>.Empty, _leader.Epoch, _log.LogEnd));
            return;
        }

        if (_leader.OnFollowerFetch(fetch.ReplicaId, fetch.LogEndOffset, _log, LiveNodes.Of(Context.System).IsAlive) is { } expand)
            WriteIsr(expand);
        UpdateHighWatermark();

        if (fetch.LogEndOffset < _log.LogEnd)
        {
            SendReplicaBatches(fetch, replyTo, node);
            return;
        }
        var id = ++_requestIds;
        _waitingReplicaFetches[id] = (fetch, replyTo);
        Timers.StartSingleTimer(id, new FetchWaitExpired(id), TimeSpan.FromMilliseconds(Math.Max(1, fetch.MaxWaitMs)));
    }

    /// <summary>
    /// Answers with batches from the follower's log end, as many as the node's <see cref="ReplicationBudget{TNode}"/>
    /// lets go toward the follower's node (at least one), or parks the fetch until it does.
    /// </summary>
    private void SendReplicaBatches(ReplicaFetch fetch, IActorRef replyTo, Address node)
    {
        var maxBytes = fetch.MaxBytes <= 0 ? _settings.MaxRequestBytes : Math.Min(fetch.MaxBytes, _settings.MaxRequestBytes);
        var (firstBatch, wanted) = _log.Index.ReadSize(fetch.LogEndOffset, maxBytes, _log.LogEnd);
        var inSync = _leader.State is { } state && state.Isr.Contains(fetch.ReplicaId);
        var allowed = firstBatch == 0 ? maxBytes : _budget.Reserve(node, _budgetWaiter, firstBatch, wanted, inSync);
        if (allowed == 0)
        {
            if (_parkedReplicaFetches.TryAdd(node, (fetch, replyTo))) _metrics.ReplicaFetchThrottled(parked: true);
            else _parkedReplicaFetches[node] = (fetch, replyTo);
            return;
        }
        if (firstBatch > 0 && allowed < wanted) _metrics.ReplicaFetchThrottled(parked: false);
        Read(fetch.LogEndOffset, (int)allowed, _log.LogEnd, (records, failure) =>
        {
            if (firstBatch > 0) _budget.Settle(node, _budgetWaiter, failure is null ? records.Length : 0);
            replyTo.Tell(failure is null
                ? _replies.ReplicaFetched(fetch, records)
                : _replies.ReplicaError(fetch, ErrorCode.Unknown, failure));
        });
    }

    /// <summary>Bytes toward <paramref name="node"/> were set aside for this leader: its parked fetch takes them, or passes them on.</summary>
    private void OnReplicationBytesGranted(Address node)
    {
        if (_parkedReplicaFetches.Remove(node, out var parked)) SendReplicaBatches(parked.Request, parked.ReplyTo, node);
        if (!_parkedReplicaFetches.ContainsKey(node)) _budget.CancelWait(node, _budgetWaiter); // nothing to send (or sent): the next in line gets them
    }

    private void ServeWaitingReplicaFetches()
    {
        if (_waitingReplicaFetches.Count == 0) return;
        foreach (var (id, (fetch, replyTo)) in _waitingReplicaFetches)
        {
            Timers.Cancel(id);
            SendReplicaBatches(fetch, replyTo, replyTo.Path.Address);
        }
        _waitingReplicaFetches.Clear();
    }

    /// <summary>
    /// Forgets long polls of <paramref name="replicaId"/> that its follower gave up on (it ignores their answers): answered
    /// with records they would count twice in the budget, which keeps one reservation per follower and partition.
    /// </summary>
    private void DropWaitingReplicaFetches(int replicaId)
    {
        if (_waitingReplicaFetches.Count == 0) return;
        foreach (var (id, (request, _)) in _waitingReplicaFetches)
        {
            if (request.ReplicaId != replicaId) continue;
            Timers.Cancel(id);
            _waitingReplicaFetches.Remove(id); // removing while enumerating a Dictionary is allowed
        }
    }

    private void OnReplicaFetchWaitExpired(long id)
    {
        if (!_waitingReplicaFetches.Remove(id, out var waiting)) return;
        waiting.ReplyTo.Tell(_replies.ReplicaFetched(waiting.Request, ReadOnlyMemory<byte>.Empty));
    }

    // ---- ISR ----

    /// <summary>A reassignment added or removed replicas: forget removed followers and drop them from the ISR.</summary>
    private void OnReplicasChanged()
    {
        _leader.ForgetRemovedFollowers(_descriptor.ReplicasOf(_partition));
        CheckIsr();
    }

    private void CheckIsr()
    {
        var live = LiveNodes.Of(Context.System);
        if (_leader.CheckIsr(_descriptor.ReplicasOf(_partition), live.IsAlive, _settings.ReplicaLagTimeMax, live.SeesMajority) is { } change)
            WriteIsr(change);
    }

    /// <summary>Writes a new ISR (compare-and-set on leader epoch and partition epoch, KIP-497); the HW counts both sets until it lands.</summary>
    private void WriteIsr(IsrProposal change)
    {
        _logger.Info("partition {0}: ISR [{1}] -> [{2}] ({3})", Name, string.Join(",", change.Expected.Isr), string.Join(",", change.Next.Isr), change.Why);
        _metadata.AlterIsrAsync(_descriptor.TopicId, _partition, change.Expected, change.Next)
            .PipeTo(Self, success: outcome => new IsrWritten(outcome));
    }

    private void OnIsrWritten(PartitionStateWrite written)
    {
        switch (_leader.OnIsrWritten(written))
        {
            case IsrWriteStep.Applied:
                UpdateHighWatermark();
                return;
            case IsrWriteStep.Refreshed:
                // Stepping down here left the partition without a leader: nobody else was elected (seen after the
                // metadata quorum's controller was killed, RestartAtOnceTests).
                _logger.Warning("partition {0}: ISR change refused ({1}); the store still names this node leader in epoch {2}: continuing from its ISR [{3}]",
                    Name, Reason(written), _leader.Epoch, string.Join(",", _leader.State!.Isr));
                UpdateHighWatermark();
                return;
            case IsrWriteStep.StoreBehind when _entity is { } entity:
                _logger.Error("partition {0}: ISR change refused ({1}): the metadata holds an older leader epoch than epoch {2}, in which node {3} was elected; "
                    + "that election was lost from the metadata. Electing again here, where the leader entity is", Name, Reason(written), _leader.Epoch, _nodeId);
                StepDown("the metadata lost this leader's election");
                Following();
                Elect(new LeadPartition(entity));
                return;
            case IsrWriteStep.Fenced or IsrWriteStep.StoreBehind:
                _logger.Warning("partition {0}: ISR change refused ({1}); a newer leader exists, stepping down", Name, Reason(written));
                StepDown("fenced by a newer leader epoch");
                Following();
                return;
            default:
                // Not confirmed by a majority (it may still land): keep counting both sets and write it again at the next check.
                _logger.Warning("partition {0}: ISR change not confirmed ({1}); retrying", Name, Reason(written));
                return;
        }
    }

    private static string? Reason(PartitionStateWrite written) => written switch
    {
        PartitionStateWrite.Conflict c => c.Reason,
        PartitionStateWrite.Unavailable u => u.Reason,
        PartitionStateWrite.Ineligible i => i.Reason,
        _ => null,
    };

    /// <summary>The budget's callback, from whatever thread freed the bytes: a message to this replica.</summary>
    private sealed class BudgetWaiter(IActorRef replica) : IReplicationBudgetWaiter<Address>
    {
        public void BytesGranted(Address node) => replica.Tell(new ReplicationBytesGranted(node));
    }
}
