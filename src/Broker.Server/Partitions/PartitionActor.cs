using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Persistence;
using Broker.Protocol;
using Broker.Server.Metadata;
using Broker.Server.Topics;

namespace Broker.Server.Partitions;

/// <summary>
/// This node's replica of one partition: a persistent actor whose journal is the partition's log here (one
/// event per record batch), run by the node's <see cref="ReplicaManagerActor"/>. It is the only actor on the
/// node with the partition's persistence id, whether it follows or leads, so there is never a second writer.
///
/// States: Recovering (snapshot + replay) -> Starting (purges a deleted topic incarnation's log) -> Following
/// (fetches from the leader through the shard region, persists the batches, truncates a divergent suffix).
/// When the partition's leader entity starts on this node: Electing (bumps the leader epoch in the metadata
/// store, from a majority read, only if this replica is in the ISR) -> Leading (appends, acks, ISR, high
/// watermark, serves consumers and followers); NotEligible if it is not in sync. Back to Following when the
/// entity hands off or a newer leader fences it. DeleteReplica purges the log and stops the actor.
///
/// The rules are plain classes this actor hosts: <see cref="PartitionLog"/> (offsets, index, epochs, producers,
/// high watermark, retention, truncation), <see cref="LeaderState{TReplyTo}"/> (admission, ISR, high watermark,
/// acks), <see cref="FollowerState"/> (what a fetch answer means), <see cref="ElectionRule"/>, and
/// <see cref="PartitionReplies"/> (every error reply). The actor journals what they decide, sends what they
/// return, and makes the metadata writes through <see cref="PartitionMetadataClient"/>. Its handlers are split by
/// state: the log's reads and retention in PartitionActor.Log.cs, leading in PartitionActor.Leader.cs, following
/// in PartitionActor.Follower.cs.
/// </summary>
public sealed partial class PartitionActor : ReceivePersistentActor, IWithTimers
{
    private readonly string _topic;
    private readonly int _partition;
    private readonly BrokerSettings _settings;
    private readonly IActorRef _region;
    private readonly int _nodeId;
    private readonly PartitionMetadataClient _metadata;
    private readonly ILoggingAdapter _logger = Context.GetLogger();
    private readonly Monitoring.BrokerMetrics _metrics = Monitoring.BrokerMetrics.Get(Context.System);
    private readonly TimeProvider _clock = TimeProvider.System;
    private readonly BatchValidator _validator;
    private readonly PartitionLog _log;
    private readonly LeaderState<IActorRef> _leader;
    private readonly FollowerState _follower = new();
    private readonly PartitionReplies _replies;
    private readonly ReplicationBudget<Address> _budget;
    private readonly BudgetWaiter _budgetWaiter;
    private TopicDescriptor _descriptor;
    private TopicConfig _config;

    public PartitionActor(TopicDescriptor descriptor, int partition, BrokerSettings settings, IActorRef region, int nodeId)
    {
        _topic = descriptor.Name;
        _partition = partition;
        _descriptor = descriptor;
        _settings = settings;
        _region = region;
        _nodeId = nodeId;
        _config = descriptor.Config(settings);
        _log = new PartitionLog(settings.TailCacheBytes, _clock);
        _leader = new LeaderState<IActorRef>(nodeId, _clock);
        _validator = new BatchValidator(_clock, settings.MaxDecompressedBatchBytes);
        _metadata = new PartitionMetadataClient(new MetadataStore(Context.System, settings.MetadataTimeout));
        _replies = new PartitionReplies(_topic, partition, nodeId, Cluster.Get(Context.System).SelfAddress.ToString(), _log,
            () => new ReplicaRole(_leader.IsLeader, _leader.Epoch, ServingEpoch));
        PersistenceId = $"partition/{_topic}/{partition}";
        _budget = ReplicationBudgets.Of(Context.System, settings);
        _budgetWaiter = new BudgetWaiter(Self);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is PartitionSnapshot snapshot) _log.Restore(snapshot, _timestampsToVerify);
        });
        Recover<PartitionCreated>(e => _log.StartIncarnation(e.TopicId));
        Recover<BatchAppended>(e => _log.Appended(e.Batch, LastSequenceNr));
        Recover<LeaderEpochStarted>(e => _log.Epochs.Assign(e.Epoch, e.StartOffset));
        Recover<LogTruncated>(e => _log.TruncateTo(e.Offset));
        Recover<LogStartAdvanced>(e => _log.StartLogAt(e.Offset));
        Recover<RecordsDeleted>(e => _log.DropBefore(e.Offset));
        Recover<RecoveryCompleted>(_ =>
        {
            _log.RecoveryCompleted();
            _logger.Info("replica of {0} recovered: offsets {1}..{2} (high watermark {3}), {4} batches indexed, leader epoch {5}",
                Name, _log.LogStart, _log.LogEnd, _log.HighWatermark, _log.Index.Count, _log.Epochs.LatestEpoch);
            Starting();
            VerifyRestoredTimestamps();
        });
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    private string Name => $"{_topic}/{_partition}";

    public static Props Props(TopicDescriptor descriptor, int partition, BrokerSettings settings, IActorRef region, int nodeId) =>
        Akka.Actor.Props.Create(() => new PartitionActor(descriptor, partition, settings, region, nodeId));

    // ---- states ----

    private void Starting()
    {
        Become(() =>
        {
            // Requests that came during recovery (a leader entity's LeadPartition among them) wait in the stash.
            Command<StartNow>(_ => CheckIncarnation(() =>
            {
                Following();
                Stash.UnstashAll();
            }));
            CommandAny(_ => Stash.Stash());
        });
        Self.Tell(StartNow.Instance);
    }

    /// <summary>Makes sure the log belongs to the current topic incarnation (purging an older one's), then continues.</summary>
    private void CheckIncarnation(Action then)
    {
        if (_log.TopicId == _descriptor.TopicId)
        {
            then();
            return;
        }
        if (_log.TopicId is not null || LastSequenceNr > 0) Purge();
        Persist(new PartitionCreated(_descriptor.TopicId), e =>
        {
            _log.StartIncarnation(e.TopicId);
            then();
        });
    }

    private void Deleted(string reason)
    {
        _logger.Info("replica of {0}: {1}; purging its log and stopping", Name, reason);
        FailWaiters(ErrorCode.UnknownTopic, $"topic '{_topic}' was deleted");
        Purge();
        Timers.CancelAll();
        Context.Stop(Self);
    }

    /// <summary>Messages every state handles the same way.</summary>
    private void HandleCommon()
    {
        Command<TopicUpdated>(OnTopicUpdated);
        Command<LeaderElected>(_ => { }); // only a follower acts on it
        Command<DeleteReplica>(d => Deleted(d.Reason));
        Command<ColdBatchesRead>(OnColdBatchesRead);
        Command<FetchWaitExpired>(OnFetchWaitExpired);
        Command<RetentionTick>(_ => ApplyRetention());
        Command<SaveSnapshotSuccess>(OnSnapshotSaved);
        Command<SaveSnapshotFailure>(f => _logger.Warning(f.Cause, "partition {0}: snapshot failed; recovery will replay more", Name));
        Command<DeleteMessagesSuccess>(d => _logger.Debug("partition {0}: deleted journal up to {1}", Name, d.ToSequenceNr));
        Command<DeleteMessagesFailure>(f => _logger.Warning(f.Cause, "partition {0}: deleting old batches failed; retried at the next retention check", Name));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _logger.Warning(f.Cause, "partition {0}: deleting old snapshots failed", Name));
        Command<ClusterEvent.IClusterDomainEvent>(_ => { });
        Command<ReplicationBytesGranted>(g => _budget.CancelWait(g.Node, _budgetWaiter)); // no longer leading: pass them on
    }

    private void OnTopicUpdated(TopicUpdated updated)
    {
        var incarnationChanged = updated.Topic.TopicId != _descriptor.TopicId;
        _descriptor = updated.Topic;
        _config = updated.Topic.Config(_settings);
        if (!incarnationChanged)
        {
            if (_leader.IsLeader) OnReplicasChanged();
            return;
        }
        // Deleted and created again while this replica ran: start over in the new incarnation; if the leader
        // entity is still here, lead it (an election in the new topic id's partition state).
        var entity = _entity;
        StepDown("its topic was created again");
        CheckIncarnation(() =>
        {
            if (entity is null) Following();
            else Elect(new LeadPartition(entity));
        });
    }

    /// <summary>Replies NotLeader to a partition request this replica cannot serve in its current state.</summary>
    private void RefuseNotLeader(object message, string why)
    {
        if (Sender.IsNobody()) return;
        if (_replies.Refusal(message, ErrorCode.NotLeader, _replies.NotLeaderText(why)) is { } reply) Sender.Tell(reply);
    }

    protected override void PostStop()
    {
        _budget.Withdraw(_budgetWaiter);
        base.PostStop();
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // Offsets were already assigned to the rejected batch: stop, so the replica manager starts this replica
        // again from the journal with contiguous offsets. Callers of in-flight appends get NotLeader or time out.
        _logger.Error(cause, "partition {0}: journal rejected event {1}; restarting from the journal", Name, sequenceNr);
        FailWaiters(ErrorCode.NotLeader, "the partition restarted after a journal error; the batch may or may not be stored");
        Context.Stop(Self);
    }

    private sealed record StartNow
    {
        public static readonly StartNow Instance = new();
    }
}
