using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Akka.Persistence;
using Broker.Protocol.Messages;
using Broker.Server.Topics;

namespace Broker.Server.Groups;

/// <summary>
/// Hosts one consumer group's <see cref="GroupCoordinator"/> as a sharded persistent actor (entity id = group
/// id) whose journal holds the group's generations and committed offsets, snapshotted so recovery stays short.
/// Since all of its state is in its journal, it can restart or move to another node and carry on. The rules
/// (group states, sessions, fencing) are in <see cref="GroupCoordinator"/>; this actor persists what it
/// decides, sends its replies, keeps the requesters of pending joins and syncs, and drives its clock tick.
///
/// Phases: WaitingForTopics (after recovery; stashes requests until it knows the topics' partition counts,
/// so the first assignment covers every partition) -> Active.
/// </summary>
public sealed class GroupCoordinatorActor : ReceivePersistentActor, IWithTimers
{
    private readonly string _groupId;
    private readonly GroupSettings _settings;
    private readonly IActorRef _registry;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly GroupCoordinator _group;
    // Requesters waiting for a join or sync reply, by member id: transport, not part of the group's model.
    private readonly Dictionary<string, IActorRef> _pendingJoins = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IActorRef> _pendingSyncs = new(StringComparer.Ordinal);
    private int _eventsSinceSnapshot;

    public GroupCoordinatorActor(string groupId, BrokerSettings settings, IActorRef registry, TimeProvider time)
    {
        _groupId = groupId;
        _settings = settings.Groups;
        _registry = registry;
        _group = new GroupCoordinator(groupId, _settings, time, _log);
        PersistenceId = GroupEntity.PersistencePrefix + groupId;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is GroupSnapshot snapshot) _group.Apply(snapshot);
        });
        Recover<GenerationStarted>(_group.Apply);
        Recover<AssignmentsSynced>(_group.Apply);
        Recover<OffsetsCommitted>(_group.Apply);
        Recover<GroupDeleted>(_group.Apply);
        Recover<OffsetsDeleted>(_group.Apply);
        Recover<RecoveryCompleted>(_ => OnRecovered());
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string groupId, BrokerSettings settings, IActorRef registry) =>
        Props(groupId, settings, registry, TimeProvider.System);

    public static Props Props(string groupId, BrokerSettings settings, IActorRef registry, TimeProvider time) =>
        Akka.Actor.Props.Create(() => new GroupCoordinatorActor(groupId, settings, registry, time));

    // ---- phases ----

    private void OnRecovered()
    {
        Carry(_group.Recovered());
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(TopicRegistryTopics.Changes, Self));
        Timers.StartPeriodicTimer(GroupTick.Instance, GroupTick.Instance, _settings.TickInterval);
        WaitingForTopics();
    }

    /// <summary>Requests wait (stashed) until the topic list is known, so the first assignment covers every partition.</summary>
    private void WaitingForTopics()
    {
        AskForTopics();
        Become(() =>
        {
            Command<TopicsSnapshot>(snapshot =>
            {
                OnTopics(snapshot);
                Active();
            });
            Command<Status.Failure>(f =>
            {
                _log.Warning("group {0}: topic registry did not answer ({1}); retrying", _groupId, f.Cause.Message);
                AskForTopics();
            });
            Command<SubscribeAck>(_ => { });
            Command<GroupTick>(_ => { });
            CommandAny(_ => Stash.Stash());
        });
    }

    private void AskForTopics() => _registry.Ask<TopicsSnapshot>(GetAllTopics.Instance, _settings.RegistryTimeout).PipeTo(Self);

    private void Active()
    {
        Become(() =>
        {
            Command<JoinGroupRequest>(r => Carry(_group.Join(r)));
            Command<SyncGroupRequest>(r => Carry(_group.Sync(r)));
            Command<HeartbeatRequest>(r => Carry(_group.Heartbeat(r)));
            Command<LeaveGroupRequest>(r => Carry(_group.Leave(r)));
            Command<OffsetCommitRequest>(r => Carry(_group.Commit(r)));
            Command<OffsetFetchRequest>(r => Sender.Tell(_group.FetchOffsets(r)));
            Command<DescribeGroupRequest>(_ => Sender.Tell(_group.Describe()));
            Command<DeleteGroupRequest>(_ => Carry(_group.Delete()));
            Command<DeleteGroupOffsetsRequest>(r => Carry(_group.DeleteOffsets(r)));
            Command<GroupTick>(_ => Carry(_group.Tick()));
            Command<TopicsSnapshot>(OnTopics);
            Command<SubscribeAck>(_ => { });
            Command<Status.Failure>(f => _log.Warning("group {0}: topic registry did not answer ({1}); waiting for its next update", _groupId, f.Cause.Message));
            Command<SaveSnapshotSuccess>(s => DeleteMessages(s.Metadata.SequenceNr));
            Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "group {0}: snapshot failed; recovery will replay more", _groupId));
            Command<DeleteMessagesSuccess>(_ => DeleteSnapshots(new SnapshotSelectionCriteria(LastSequenceNr - 1)));
            Command<DeleteMessagesFailure>(f => _log.Warning(f.Cause, "group {0}: deleting old events failed", _groupId));
            Command<DeleteSnapshotsSuccess>(_ => { });
            Command<DeleteSnapshotsFailure>(_ => { });
        });
        Stash.UnstashAll();
    }

    private void OnTopics(TopicsSnapshot snapshot)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in snapshot.Topics) counts[t.Name] = t.Partitions;
        Carry(_group.TopicsChanged(counts));
    }

    // ---- carrying out an outcome ----

    /// <summary>Keeps a waiting requester, persists the events (nothing else is handled meanwhile), then sends the replies.</summary>
    private void Carry(GroupOutcome outcome)
    {
        var requester = Sender;
        if (outcome.Parked is { } parked)
            (parked.Target == ReplyTarget.PendingJoin ? _pendingJoins : _pendingSyncs)[parked.MemberId] = requester;
        if (outcome.Events.Count == 0)
        {
            Send(outcome, requester);
            return;
        }
        var left = outcome.Events.Count;
        PersistAll(outcome.Events, _ =>
        {
            if (--left > 0) return;
            Send(outcome, requester);
            CountEvents(outcome.Events.Count);
        });
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

    // ---- snapshots ----

    /// <summary>Counted once an outcome's events are all persisted, so a snapshot never runs ahead of the journal.</summary>
    private void CountEvents(int count)
    {
        _eventsSinceSnapshot += count;
        if (_eventsSinceSnapshot < _settings.SnapshotEveryEvents) return;
        _eventsSinceSnapshot = 0;
        SaveSnapshot(_group.Snapshot());
    }
}
