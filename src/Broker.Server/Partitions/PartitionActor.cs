using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Persistence;
using Broker.Protocol;
using Broker.Protocol.Messages;
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
/// The log itself (index, tail cache, cold reads, retention, snapshots) is in PartitionActor.Log.cs; leading
/// in PartitionActor.Leader.cs; following in PartitionActor.Follower.cs.
/// </summary>
public sealed partial class PartitionActor : ReceivePersistentActor, IWithTimers
{
    private readonly string _topic;
    private readonly int _partition;
    private readonly BrokerSettings _settings;
    private readonly IActorRef _region;
    private readonly int _nodeId;
    private readonly MetadataStore _store;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Monitoring.BrokerMetrics _metrics = Monitoring.BrokerMetrics.Get(Context.System);
    private readonly string _address;
    private readonly TimeProvider _clock = TimeProvider.System;
    private readonly BatchValidator _validator;
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
        _tail = new TailCache(settings.TailCacheBytes);
        _validator = new BatchValidator(_clock, settings.MaxDecompressedBatchBytes);
        _store = new MetadataStore(Context.System, settings.MetadataTimeout);
        _address = Cluster.Get(Context.System).SelfAddress.ToString();
        PersistenceId = $"partition/{_topic}/{partition}";

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is PartitionSnapshot snapshot) Restore(snapshot);
        });
        Recover<PartitionCreated>(e => StartIncarnation(e.TopicId));
        Recover<BatchAppended>(e => Appended(e.Batch, LastSequenceNr));
        Recover<LeaderEpochStarted>(e => _epochs.Assign(e.Epoch, e.StartOffset));
        Recover<LogTruncated>(e => TruncateTo(e.Offset));
        Recover<LogStartAdvanced>(e => StartLogAt(e.Offset));
        Recover<RecordsDeleted>(e => DropBefore(e.Offset));
        Recover<RecoveryCompleted>(_ =>
        {
            _highWatermark = Math.Min(Math.Max(_highWatermark, _logStart), _logEnd);
            _nextOffset = _logEnd; // nothing is in flight after recovery (a replayed truncation may have left it behind)
            _log.Info("replica of {0} recovered: offsets {1}..{2} (high watermark {3}), {4} batches indexed, leader epoch {5}",
                Name, _logStart, _logEnd, _highWatermark, _index.Count, _epochs.LatestEpoch);
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
        if (_topicId == _descriptor.TopicId)
        {
            then();
            return;
        }
        if (_topicId is not null || LastSequenceNr > 0) Purge();
        Persist(new PartitionCreated(_descriptor.TopicId), e =>
        {
            StartIncarnation(e.TopicId);
            then();
        });
    }

    private void Deleted(string reason)
    {
        _log.Info("replica of {0}: {1}; purging its log and stopping", Name, reason);
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
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "partition {0}: snapshot failed; recovery will replay more", Name));
        Command<DeleteMessagesSuccess>(d => _log.Debug("partition {0}: deleted journal up to {1}", Name, d.ToSequenceNr));
        Command<DeleteMessagesFailure>(f => _log.Warning(f.Cause, "partition {0}: deleting old batches failed; retried at the next retention check", Name));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "partition {0}: deleting old snapshots failed", Name));
        Command<ClusterEvent.IClusterDomainEvent>(_ => { });
    }

    private void OnTopicUpdated(TopicUpdated updated)
    {
        var incarnationChanged = updated.Topic.TopicId != _descriptor.TopicId;
        _descriptor = updated.Topic;
        _config = updated.Topic.Config(_settings);
        if (!incarnationChanged)
        {
            if (_isLeader) OnReplicasChanged();
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
        var text = $"node {_nodeId} does not lead {Name} ({why}); retry: the request is routed to the leader";
        switch (message)
        {
            case AppendBatch a: Sender.Tell(new AppendResult(a.Topic, a.Partition, ErrorCode.NotLeader, text, -1)); break;
            case FetchRequest f: Sender.Tell(new FetchResponse(f.Topic, f.Partition, ErrorCode.NotLeader, text, _highWatermark, _logStart, ReadOnlyMemory<byte>.Empty)); break;
            case ListOffsetsRequest l: Sender.Tell(new ListOffsetsResponse(l.Topic, l.Partition, ErrorCode.NotLeader, text, -1, -1)); break;
            case DeleteRecordsRequest d: Sender.Tell(new DeleteRecordsResponse(d.Topic, d.Partition, ErrorCode.NotLeader, text, -1)); break;
            case OffsetForLeaderEpochRequest o: Sender.Tell(new OffsetForLeaderEpochResponse(o.Topic, o.Partition, ErrorCode.NotLeader, text, -1, -1)); break;
            case DescribeProducersRequest dp: Sender.Tell(new DescribeProducersResponse(dp.Topic, dp.Partition, ErrorCode.NotLeader, text, [])); break;
            case GetPartitionInfo: Sender.Tell(Info(ErrorCode.NotLeader, text)); break;
            case ReplicaFetch r: Sender.Tell(new ReplicaFetchResult(r.Topic, r.Partition, r.FetchId, ErrorCode.NotLeader, text, _epochs.LatestEpoch, -1, -1, -1, -1, -1, ReadOnlyMemory<byte>.Empty)); break;
        }
    }

    private PartitionInfo Info(ErrorCode error, string? message) =>
        new(_topic, _partition, error, message, _logStart, _highWatermark, _logEnd, _leaderEpoch, _isLeader ? _nodeId : -1, _address);

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // Offsets were already assigned to the rejected batch: stop, so the replica manager starts this replica
        // again from the journal with contiguous offsets. Callers of in-flight appends get NotLeader or time out.
        _log.Error(cause, "partition {0}: journal rejected event {1}; restarting from the journal", Name, sequenceNr);
        FailWaiters(ErrorCode.NotLeader, "the partition restarted after a journal error; the batch may or may not be stored");
        Context.Stop(Self);
    }

    private sealed record StartNow
    {
        public static readonly StartNow Instance = new();
    }
}
