using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Partitions;
using Broker.Server.Topics;

namespace Broker.Server.Groups;

/// <summary>
/// Hosts one consumer group's <see cref="GroupCoordinator"/> beside the leader of the group's
/// <see cref="OffsetsTopic"/> partition, as a child of that partition's <see cref="GroupPartitionActor"/>, which
/// built the group from the partition's log. The rules (group states, sessions, fencing) are in
/// <see cref="GroupCoordinator"/>; this actor writes what it decides into the partition (one batch per outcome,
/// acks=all, only in the leader epoch the log was read in), sends the replies once the batch is committed, keeps the
/// requesters of pending joins and syncs, and drives its clock tick. A write that fails means the state here may
/// differ from the log: the actor answers NotCoordinator, hands what it had stashed back to its parent and stops, and
/// the parent reads the partition again. On its parent's checkpoint round (<see cref="GroupCheckpoints"/>) it writes
/// the group's snapshot like any outcome and tells the parent the snapshot's offset.
///
/// States: WaitingForTopics (stashes requests until it knows the topics' partition counts, so the first assignment
/// covers every partition) -> Active &lt;-> Writing (a batch is in flight; everything else waits, as a persistent
/// actor's commands wait for its journal).
/// </summary>
internal sealed class GroupCoordinatorActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    private readonly string _groupId;
    private readonly GroupSettings _settings;
    private readonly IActorRef _registry;
    private readonly GroupLease _lease;
    private readonly TimeProvider _time;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly GroupCoordinator _group;
    // Requesters waiting for a join or sync reply, by member id: transport, not part of the group's model.
    private readonly Dictionary<string, IActorRef> _pendingJoins = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IActorRef> _pendingSyncs = new(StringComparer.Ordinal);

    public GroupCoordinatorActor(string groupId, GroupSettings settings, IActorRef registry, GroupLease lease, GroupCoordinator group, TimeProvider time)
    {
        _groupId = groupId;
        _settings = settings;
        _registry = registry;
        _lease = lease;
        _group = group;
        _time = time;
        WaitingForTopics();
    }

    public IStash Stash { get; set; } = null!;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string groupId, GroupSettings settings, IActorRef registry, GroupLease lease, GroupCoordinator group, TimeProvider time) =>
        Akka.Actor.Props.Create(() => new GroupCoordinatorActor(groupId, settings, registry, lease, group, time));

    protected override void PreStart()
    {
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(TopicRegistryTopics.Changes, Self));
        Timers.StartPeriodicTimer(GroupTick.Instance, GroupTick.Instance, _settings.TickInterval);
        AskForTopics();
    }

    protected override void PostStop() => DistributedPubSub.Get(Context.System).Mediator.Tell(new Unsubscribe(TopicRegistryTopics.Changes, Self));

    // ---- phases ----

    /// <summary>Requests wait (stashed) until the topic list is known, so the first assignment covers every partition.</summary>
    private void WaitingForTopics()
    {
        Receive<TopicsSnapshot>(snapshot =>
        {
            Become(Active);
            // Members of the generation read back get a fresh session; a half-done rebalance starts again.
            Carry(_group.Recovered());
            OnTopics(snapshot);
            Stash.UnstashAll();
        });
        Receive<Status.Failure>(f =>
        {
            _log.Warning("group {0}: topic registry did not answer ({1}); retrying", _groupId, f.Cause.Message);
            AskForTopics();
        });
        Receive<SubscribeAck>(_ => { });
        Receive<UnsubscribeAck>(_ => { });
        Receive<GroupTick>(_ => { });
        ReceiveAny(_ => Stash.Stash());
    }

    private void AskForTopics() => _registry.Ask<TopicsSnapshot>(GetAllTopics.Instance, _settings.RegistryTimeout).PipeTo(Self);

    private void Active()
    {
        Receive<JoinGroupRequest>(r => Carry(_group.Join(r)));
        Receive<SyncGroupRequest>(r => Carry(_group.Sync(r)));
        Receive<HeartbeatRequest>(r => Carry(_group.Heartbeat(r)));
        Receive<LeaveGroupRequest>(r => Carry(_group.Leave(r)));
        Receive<OffsetCommitRequest>(r => Carry(_group.Commit(r)));
        Receive<OffsetFetchRequest>(r => Sender.Tell(_group.FetchOffsets(r)));
        Receive<DescribeGroupRequest>(_ => Sender.Tell(_group.Describe()));
        Receive<DeleteGroupRequest>(_ => Carry(_group.Delete()));
        Receive<ConsumerGroupHeartbeatRequest>(r => Carry(_group.ConsumerHeartbeat(r)));
        Receive<DescribeConsumerGroupRequest>(_ => Sender.Tell(_group.DescribeConsumer()));
        Receive<DeleteGroupOffsetsRequest>(r => Carry(_group.DeleteOffsets(r)));
        Receive<GroupTick>(_ => Carry(_group.Tick()));
        Receive<GroupCheckpoint>(OnCheckpoint);
        Receive<TopicsSnapshot>(OnTopics);
        Receive<SubscribeAck>(_ => { });
        Receive<UnsubscribeAck>(_ => { });
        Receive<Status.Failure>(f => _log.Warning("group {0}: topic registry did not answer ({1}); waiting for its next update", _groupId, f.Cause.Message));
    }

    private void OnTopics(TopicsSnapshot snapshot)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in snapshot.Topics) counts[t.Name] = t.Partitions;
        Carry(_group.TopicsChanged(counts));
    }

    /// <summary>
    /// Writes the group's snapshot for its host's checkpoint round (every earlier write of this group is committed:
    /// writes are one at a time) and tells the host its offset; a group that does not exist writes nothing.
    /// </summary>
    private void OnCheckpoint(GroupCheckpoint checkpoint)
    {
        if (!_group.Exists)
        {
            Sender.Tell(new GroupCheckpointed(_groupId, checkpoint.Round, null));
            return;
        }
        Carry(_group.Checkpoint(), checkpoint);
    }

    // ---- carrying out an outcome ----

    /// <summary>Keeps a waiting requester, writes the events (nothing else is handled meanwhile), then sends the replies.</summary>
    private void Carry(GroupOutcome outcome, GroupCheckpoint? checkpoint = null)
    {
        var requester = Sender;
        if (outcome.Parked is { } parked)
            (parked.Target == ReplyTarget.PendingJoin ? _pendingJoins : _pendingSyncs)[parked.MemberId] = requester;
        if (outcome.Events.Count == 0)
        {
            Send(outcome, requester);
            return;
        }
        var batch = GroupRecords.Encode(_groupId, outcome.Events, _time.GetUtcNow().ToUnixTimeMilliseconds());
        _lease.Replica.Tell(new AppendBatch(OffsetsTopic.Name, _lease.Partition, _lease.TopicId, Acks: -1, batch)
        {
            LeaderEpoch = _lease.LeaderEpoch,
            ExactLeaderEpoch = true,
        });
        Timers.StartSingleTimer(WriteTimedOut.Instance, WriteTimedOut.Instance, _settings.WriteTimeout);
        Become(() => Writing(outcome, requester, checkpoint));
    }

    private void Writing(GroupOutcome outcome, IActorRef requester, GroupCheckpoint? checkpoint)
    {
        Receive<AppendResult>(result =>
        {
            Timers.Cancel(WriteTimedOut.Instance);
            if (result.Error != ErrorCode.None)
            {
                Fail(requester, $"writing to {OffsetsTopic.Name}/{_lease.Partition} failed ({result.Error}: {result.ErrorMessage})");
                return;
            }
            Send(outcome, requester);
            // The snapshot is the batch's only record, so its offset is the batch's base offset.
            if (checkpoint is not null) requester.Tell(new GroupCheckpointed(_groupId, checkpoint.Round, result.BaseOffset));
            Become(Active);
            Stash.UnstashAll();
        });
        Receive<WriteTimedOut>(_ => Fail(requester, $"writing to {OffsetsTopic.Name}/{_lease.Partition} took longer than {_settings.WriteTimeout.TotalSeconds:0}s"));
        Receive<GroupTick>(_ => { });
        Receive<SubscribeAck>(_ => { });
        Receive<UnsubscribeAck>(_ => { });
        ReceiveAny(_ => Stash.Stash());
    }

    /// <summary>
    /// The log may not hold what this state holds: answer NotCoordinator to whoever waits, give the stashed requests back
    /// to the parent (which reads the partition again, then serves them) and stop.
    /// </summary>
    private void Fail(IActorRef requester, string why)
    {
        _log.Warning("group {0}: {1}; reading the group back from its partition", _groupId, why);
        var text = $"the coordinator of group {_groupId} moved or is reloading ({why}); retry";
        var refusal = new ErrorResponse(ErrorCode.NotCoordinator, text);
        if (!requester.IsNobody() && !requester.Equals(Self) && !requester.Equals(Context.Parent)) requester.Tell(refusal); // the host learns below
        foreach (var waiting in _pendingJoins.Values) waiting.Tell(refusal);
        foreach (var waiting in _pendingSyncs.Values) waiting.Tell(refusal);
        _pendingJoins.Clear();
        _pendingSyncs.Clear();
        // The parent first learns of the failure (and stops routing here), then gets the waiting requests back.
        Context.Parent.Tell(new GroupCoordinatorFailed(_groupId, why));
        foreach (var envelope in Stash.ClearStash())
        {
            if (envelope.Message is IGroupMessage) Context.Parent.Tell(envelope.Message, envelope.Sender);
        }
        Context.Stop(Self);
    }

    private void Send(GroupOutcome outcome, IActorRef requester)
    {
        foreach (var reply in outcome.Replies)
        {
            switch (reply.To)
            {
                case ReplyTarget.Requester:
                    requester.Tell(reply.Message);
                    break;
                case ReplyTarget.PendingJoin:
                    if (_pendingJoins.Remove(reply.MemberId, out var join)) join.Tell(reply.Message);
                    break;
                case ReplyTarget.PendingSync:
                    if (_pendingSyncs.Remove(reply.MemberId, out var sync)) sync.Tell(reply.Message);
                    break;
            }
        }
    }

    private sealed record WriteTimedOut
    {
        public static readonly WriteTimedOut Instance = new();
    }
}
