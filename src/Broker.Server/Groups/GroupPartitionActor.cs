using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Partitions;
using Broker.Server.Serialization;

namespace Broker.Server.Groups;

/// <summary>
/// The group coordinators of one <see cref="OffsetsTopic"/> partition, beside its leader (Kafka's GroupCoordinator and
/// GroupMetadataManager for one partition): a child of the partition's <see cref="PartitionLeaderEntity"/>, so it runs
/// where the leader runs and stops when the leadership is handed off. Once the local replica leads, it reads the
/// partition from its log start to the log end it had when it became leader (fetches carry that leader epoch, and wait
/// for the high watermark, so what it reads is committed), rebuilds every group in it, and then serves each group from a
/// child <see cref="GroupCoordinatorActor"/> that writes in the same epoch. Requests that arrive meanwhile wait.
/// While active it keeps the log short (<see cref="GroupCheckpoints"/>): every <c>checkpoint-interval</c> it asks the
/// replica for its log bounds, and when a round is due every group writes its snapshot; once all have answered, the
/// records below the oldest snapshot are deleted (DeleteRecords), so the next leader reads a bounded log back.
///
/// States: WaitingForLeadership (asks the local replica until it answers as leader) -> Loading (reads the log) ->
/// Active. A coordinator whose write failed (leadership lost or moved to another epoch, ISR too small, timeout) sends
/// this actor back to WaitingForLeadership: every coordinator stops and the partition is read again. So does finding,
/// on the checkpoint timer, that the replica now leads in another epoch (reads would be stale, not only writes).
/// </summary>
public sealed class GroupPartitionActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    private readonly int _partition;
    private readonly IActorRef _replica;
    private readonly GroupSettings _settings;
    private readonly IActorRef _registry;
    private readonly TimeProvider _time;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, IActorRef> _coordinators = new(StringComparer.Ordinal);
    private readonly GroupCheckpoints _checkpoints;
    private long _boundsRequestId;
    private Dictionary<string, GroupCoordinator> _loaded = new(StringComparer.Ordinal);
    private long _requestId;
    private GroupLease? _lease;
    private long _next;
    private long _loadFrom;
    private long _loadEnd;
    private long _loadStarted;

    public GroupPartitionActor(int partition, IActorRef replica, GroupSettings settings, IActorRef registry, TimeProvider time)
    {
        _partition = partition;
        _replica = replica;
        _settings = settings;
        _registry = registry;
        _time = time;
        _checkpoints = new GroupCheckpoints(settings.CheckpointAfterRecords);
        WaitingForLeadership();
    }

    public IStash Stash { get; set; } = null!;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(int partition, IActorRef replica, GroupSettings settings, IActorRef registry) =>
        Akka.Actor.Props.Create(() => new GroupPartitionActor(partition, replica, settings, registry, TimeProvider.System));

    private string Name => $"{OffsetsTopic.Name}/{_partition}";

    protected override void PreStart()
    {
        HostedGroupPartitions.Get(Context.System).Started(_partition);
        AskLeadership();
    }

    protected override void PostStop() => HostedGroupPartitions.Get(Context.System).Stopped(_partition);

    // ---- phases ----

    private void WaitingForLeadership()
    {
        Receive<Leadership>(l =>
        {
            if (l.RequestId != _requestId) return;
            Timers.Cancel(Retry.Instance);
            StartLoading(l);
        });
        Receive<Retry>(_ => AskLeadership());
        IgnoreCheckpoints();
        ReceiveAny(_ => Stash.Stash());
    }

    // Answers of a checkpoint round that stopped with the coordinators that were to give them: they count for nothing.
    private void IgnoreCheckpoints()
    {
        Receive<GroupCoordinatorFailed>(_ => { });
        Receive<GroupCheckpointed>(_ => { });
        Receive<CheckpointTick>(_ => { });
        Receive<DeleteRecordsResponse>(_ => { });
    }

    private void AskLeadership()
    {
        _replica.Tell(new GetLeadership(++_requestId));
        Timers.StartSingleTimer(Retry.Instance, Retry.Instance, _settings.LoadRetryInterval);
    }

    private void StartLoading(Leadership leadership)
    {
        _lease = new GroupLease(_replica, _partition, leadership.TopicId, leadership.LeaderEpoch);
        _loaded = new Dictionary<string, GroupCoordinator>(StringComparer.Ordinal);
        _next = _loadFrom = leadership.LogStart;
        _loadEnd = leadership.LogEnd;
        _loadStarted = Stopwatch.GetTimestamp();
        Become(Loading);
        if (_next >= _loadEnd) Activate();
        else Fetch();
    }

    private void Loading()
    {
        Receive<FetchResponse>(OnFetched);
        Receive<Retry>(_ => Fetch());
        IgnoreCheckpoints();
        ReceiveAny(_ => Stash.Stash());
    }

    private void Fetch() =>
        _replica.Tell(new FetchRequest(OffsetsTopic.Name, _partition, _next, MaxBytes: 0, MaxWaitMs: 500) { CurrentLeaderEpoch = _lease!.LeaderEpoch });

    private void OnFetched(FetchResponse fetched)
    {
        if (fetched.Error == ErrorCode.OffsetOutOfRange && fetched.LogStartOffset > _next)
        {
            _next = fetched.LogStartOffset; // retention or DeleteRecords moved the log start meanwhile
            Fetch();
            return;
        }
        if (fetched.Error != ErrorCode.None)
        {
            _log.Info("{0}: reading the groups back stopped ({1}: {2}); waiting to lead again", Name, fetched.Error, fetched.ErrorMessage);
            Become(WaitingForLeadership);
            AskLeadership();
            return;
        }
        var events = new List<(string GroupId, IServerMessage Event)>();
        _next = GroupRecords.Decode(fetched.Records, _next, events);
        foreach (var (groupId, e) in events)
        {
            if (!_loaded.TryGetValue(groupId, out var group)) _loaded[groupId] = group = NewGroup(groupId);
            group.Apply(e);
        }
        if (_next >= _loadEnd) Activate();
        else Fetch(); // an empty answer waited for the high watermark: ask again
    }

    private void Activate()
    {
        foreach (var (groupId, group) in _loaded) Start(groupId, group);
        var took = Stopwatch.GetElapsedTime(_loadStarted);
        _log.Info("{0}: coordinating {1} group(s) in leader epoch {2}, read back from offsets {3} to {4} in {5:0} ms",
            Name, _loaded.Count, _lease!.LeaderEpoch, _loadFrom, _loadEnd, took.TotalMilliseconds);
        _loaded = new Dictionary<string, GroupCoordinator>(StringComparer.Ordinal);
        Become(Active);
        Timers.StartPeriodicTimer(CheckpointTick.Instance, CheckpointTick.Instance, _settings.CheckpointInterval);
        Stash.UnstashAll();
    }

    private void Active()
    {
        Receive<IGroupMessage>(m => Coordinator(m.GroupId).Forward(m));
        Receive<ListCoordinatedGroups>(_ => ListAsync(_settings.RegistryTimeout).PipeTo(Sender));
        Receive<CheckpointTick>(_ =>
        {
            if (_checkpoints.Round == 0) _replica.Tell(new GetLeadership(_boundsRequestId = ++_requestId));
        });
        Receive<Leadership>(OnBounds);
        Receive<GroupCheckpointed>(OnCheckpointed);
        Receive<DeleteRecordsResponse>(deleted =>
        {
            if (deleted.Error == ErrorCode.None) _log.Info("{0}: records below {1} are superseded by the groups' snapshots and deleted", Name, deleted.LowWatermark);
            else _log.Warning("{0}: deleting the records superseded by the groups' snapshots failed ({1}: {2}); the next round tries again", Name, deleted.Error, deleted.ErrorMessage);
        });
        Receive<GroupCoordinatorFailed>(f => Reload($"group {f.GroupId} could not write ({f.Reason})"));
    }

    /// <summary>Stops every coordinator (their state may differ from the log) and reads the partition again once it leads.</summary>
    private void Reload(string why)
    {
        _log.Warning("{0}: {1}; reading the partition again", Name, why);
        foreach (var child in _coordinators.Values) Context.Stop(child);
        _coordinators.Clear();
        _checkpoints.Abandon();
        Timers.Cancel(CheckpointTick.Instance);
        Become(WaitingForLeadership);
        AskLeadership();
    }

    // ---- checkpoints ----

    private void OnBounds(Leadership bounds)
    {
        if (bounds.RequestId != _boundsRequestId) return;
        if (bounds.LeaderEpoch != _lease!.LeaderEpoch)
        {
            // Led by another epoch since the groups were read (another leader may have written in between): reads
            // from this state would be stale, not only writes (which the epoch fences).
            Reload($"the replica leads in epoch {bounds.LeaderEpoch}, not {_lease.LeaderEpoch} in which the groups were read");
            return;
        }
        if (!_checkpoints.Due(bounds.LogStart, bounds.HighWatermark, _coordinators.Count)) return;
        if (_coordinators.Count == 0)
        {
            _replica.Tell(new DeleteRecordsRequest(OffsetsTopic.Name, _partition, bounds.HighWatermark)); // no group: nothing below is needed
            return;
        }
        var round = _checkpoints.Begin(_coordinators.Keys, bounds.HighWatermark);
        _log.Info("{0}: {1} records from log start {2}; checkpoint round {3}: {4} group(s) write their snapshot",
            Name, bounds.HighWatermark - bounds.LogStart, bounds.LogStart, round, _coordinators.Count);
        var checkpoint = new GroupCheckpoint(round);
        foreach (var child in _coordinators.Values) child.Tell(checkpoint);
    }

    private void OnCheckpointed(GroupCheckpointed answer)
    {
        if (_checkpoints.Answered(answer.Round, answer.GroupId, answer.SnapshotOffset) is { } start)
            _replica.Tell(new DeleteRecordsRequest(OffsetsTopic.Name, _partition, start));
    }

    // ---- coordinators ----

    private GroupCoordinator NewGroup(string groupId) => new(groupId, _settings, _time, _log);

    private IActorRef Coordinator(string groupId) =>
        _coordinators.TryGetValue(groupId, out var child) ? child : Start(groupId, NewGroup(groupId));

    private IActorRef Start(string groupId, GroupCoordinator group)
    {
        var child = Context.ActorOf(GroupCoordinatorActor.Props(groupId, _settings, _registry, _lease!, group, _time));
        _coordinators[groupId] = child;
        if (_checkpoints.Round != 0)
        {
            _checkpoints.Joined(groupId); // started during a round: its first write may land below the others' snapshots
            child.Tell(new GroupCheckpoint(_checkpoints.Round));
        }
        return child;
    }

    /// <summary>Every group of this partition that exists (a deleted or never-used group describes itself as UnknownGroup).</summary>
    private async Task<ListGroupsResponse> ListAsync(TimeSpan timeout)
    {
        var asks = new List<Task<DescribeGroupResponse>>(_coordinators.Count);
        foreach (var (groupId, child) in _coordinators) asks.Add(child.Ask<DescribeGroupResponse>(new DescribeGroupRequest(groupId), timeout));
        try
        {
            var listings = new List<GroupListing>(asks.Count);
            foreach (var d in await Task.WhenAll(asks).ConfigureAwait(false))
            {
                if (d.Error == ErrorCode.None) listings.Add(new GroupListing(d.GroupId, d.State, d.ProtocolType, d.Members.Count, d.Type));
            }
            return new ListGroupsResponse(ErrorCode.None, null, listings);
        }
        catch (Exception ex) when (ex is TimeoutException or AskTimeoutException)
        {
            return new ListGroupsResponse(ErrorCode.RequestTimedOut, $"the groups of {OffsetsTopic.Name}/{_partition} did not all answer within {timeout.TotalSeconds:0}s; retry", []);
        }
    }

    private sealed record Retry
    {
        public static readonly Retry Instance = new();
    }

    private sealed record CheckpointTick
    {
        public static readonly CheckpointTick Instance = new();
    }
}
