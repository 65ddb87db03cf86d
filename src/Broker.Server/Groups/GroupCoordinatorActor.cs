using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Akka.Persistence;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Groups.Assignment;
using Broker.Server.Topics;

namespace Broker.Server.Groups;

/// <summary>
/// One consumer group's coordinator: a sharded persistent actor (entity id = group id) whose journal holds
/// the group's generations and committed offsets, snapshotted so recovery stays short. Since all of its
/// state is in its journal, it can restart or move to another node and carry on.
///
/// States (Kafka's classic group protocol): Empty -> PreparingRebalance when a member joins; it gathers
/// members until every known member has rejoined (or the rebalance timeout removes the laggards), then
/// starts a new generation: with one of our assignors the coordinator computes the assignment and the
/// group goes straight to Stable; otherwise it waits in CompletingRebalance for the leader's SyncGroup and
/// relays the assignment bytes. Stable -> PreparingRebalance when a member joins, leaves, changes its
/// subscription, misses its session timeout, or a subscribed topic gains partitions (or is created).
/// Any state -> Empty when the last member goes. Dead is how a group that never existed describes itself.
/// The group state is a field rather than Become handlers because every request is valid in every group
/// state, with a state-dependent answer, as in Kafka's GroupCoordinator. The actor itself has two phases:
/// WaitingForTopics (after recovery; stashes requests until it knows the topics' partition counts) -> Active.
/// </summary>
public sealed class GroupCoordinatorActor : ReceivePersistentActor, IWithTimers
{
    private readonly string _groupId;
    private readonly GroupSettings _settings;
    private readonly IActorRef _registry;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, GroupMember> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<TopicPartitionId, CommittedOffset> _offsets = new();
    // Each member's assignment in the previous generation: a member may still commit what it is handing over.
    private Dictionary<string, byte[]> _previousAssignments = new(StringComparer.Ordinal);
    // Cooperative rebalancing: members that must fetch this generation's assignment (and so give up what
    // moves) before the follow-up rebalance that hands those partitions to their new owners.
    private readonly HashSet<string> _handoverSyncs = new(StringComparer.Ordinal);
    private Dictionary<string, int> _partitionCounts = new(StringComparer.Ordinal);
    private Dictionary<string, int> _assignedCounts = new(StringComparer.Ordinal);

    private GroupState _state = GroupState.Empty;
    private int _generation;
    private string _protocolType = "";
    private string _protocol = "";
    private string _leader = "";
    private bool _exists;
    private long _rebalanceDeadline;
    private long _joinNotBefore;
    private int _eventsSinceSnapshot;

    public GroupCoordinatorActor(string groupId, BrokerSettings settings, IActorRef registry)
    {
        _groupId = groupId;
        _settings = settings.Groups;
        _registry = registry;
        PersistenceId = GroupEntity.PersistencePrefix + groupId;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is not GroupSnapshot snapshot) return;
            ApplyGeneration(snapshot.Generation);
            foreach (var o in snapshot.Offsets) _offsets[new TopicPartitionId(o.Topic, o.Partition)] = o;
        });
        Recover<GenerationStarted>(ApplyGeneration);
        Recover<AssignmentsSynced>(ApplySynced);
        Recover<OffsetsCommitted>(ApplyCommitted);
        Recover<RecoveryCompleted>(_ => OnRecovered());
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string groupId, BrokerSettings settings, IActorRef registry) =>
        Akka.Actor.Props.Create(() => new GroupCoordinatorActor(groupId, settings, registry));

    // ---- states ----

    /// <summary>Requests wait (stashed) until the topic list is known, so the first assignment covers every partition.</summary>
    private void WaitingForTopics()
    {
        _registry.Ask<TopicsSnapshot>(GetAllTopics.Instance, TimeSpan.FromSeconds(10)).PipeTo(Self);
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
                _registry.Ask<TopicsSnapshot>(GetAllTopics.Instance, TimeSpan.FromSeconds(10)).PipeTo(Self);
            });
            Command<SubscribeAck>(_ => { });
            Command<GroupTick>(_ => { });
            CommandAny(_ => Stash.Stash());
        });
    }

    private void Active()
    {
        Become(() =>
        {
            Command<JoinGroupRequest>(Join);
            Command<SyncGroupRequest>(Sync);
            Command<HeartbeatRequest>(Heartbeat);
            Command<LeaveGroupRequest>(Leave);
            Command<OffsetCommitRequest>(Commit);
            Command<OffsetFetchRequest>(FetchOffsets);
            Command<DescribeGroupRequest>(_ => Sender.Tell(Describe()));
            Command<GroupTick>(_ => Tick());
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

    // ---- recovery ----

    private void ApplyGeneration(GenerationStarted e)
    {
        _exists = true;
        _generation = e.GenerationId;
        _protocolType = e.ProtocolType;
        _protocol = e.Protocol;
        _leader = e.LeaderId;
        var previous = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var m in _members.Values) previous[m.MemberId] = m.Assignment;
        _previousAssignments = previous;
        _members.Clear();
        foreach (var m in e.Members)
        {
            _members[m.MemberId] = new GroupMember(m.MemberId, m.ClientId)
            {
                SessionTimeoutMs = m.SessionTimeoutMs,
                RebalanceTimeoutMs = m.RebalanceTimeoutMs,
                Protocols = [new GroupProtocol(e.Protocol, m.Metadata)],
                Assignment = m.Assignment,
            };
        }
        _assignedCounts = AssignedCounts(e);
    }

    /// <summary>How many partitions of each subscribed topic the generation assigned: a topic that now has more needs a rebalance.</summary>
    private static Dictionary<string, int> AssignedCounts(GenerationStarted e)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!GroupAssignmentPlanner.AssignsOnServer(e.ProtocolType, e.Protocol)) return counts;
        foreach (var m in e.Members)
        {
            if (GroupAssignmentPlanner.TryDecode(m.Metadata) is { } subscription)
            {
                foreach (var topic in subscription.Topics) counts.TryAdd(topic, 0);
            }
            foreach (var p in GroupAssignmentPlanner.Partitions(e.ProtocolType, m.Assignment))
                counts[p.Topic] = counts.GetValueOrDefault(p.Topic) + 1;
        }
        return counts;
    }

    private void ApplySynced(AssignmentsSynced e)
    {
        if (e.GenerationId != _generation) return;
        foreach (var a in e.Assignments)
            if (_members.TryGetValue(a.MemberId, out var member)) member.Assignment = a.Assignment;
    }

    private void ApplyCommitted(OffsetsCommitted e)
    {
        _exists = true;
        foreach (var o in e.Offsets) _offsets[new TopicPartitionId(o.Topic, o.Partition)] = o;
    }

    private void OnRecovered()
    {
        // Members of the recovered generation get a fresh session: if they are alive their heartbeats
        // carry on; if not, they expire and the group rebalances without them.
        foreach (var member in _members.Values) member.Touch();
        if (_members.Count == 0) _state = GroupState.Empty;
        else if (AllAssigned()) _state = GroupState.Stable;
        else BeginRebalance("the leader's assignment was not recorded before the restart");
        if (_exists) _log.Info("group {0} recovered: generation {1}, {2} members, {3} committed offsets", _groupId, _generation, _members.Count, _offsets.Count);
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(TopicRegistryTopics.Changes, Self));
        Timers.StartPeriodicTimer(GroupTick.Instance, GroupTick.Instance, _settings.TickInterval);
        WaitingForTopics();
    }

    private bool AllAssigned()
    {
        if (GroupAssignmentPlanner.AssignsOnServer(_protocolType, _protocol)) return true;
        foreach (var m in _members.Values)
            if (m.Assignment.Length == 0) return false;
        return true;
    }

    // ---- join ----

    private void Join(JoinGroupRequest request)
    {
        var invalid = ValidateJoin(request);
        if (invalid is not null)
        {
            Sender.Tell(JoinError(invalid.Value.Error, invalid.Value.Message, request.MemberId));
            return;
        }

        GroupMember member;
        if (string.IsNullOrEmpty(request.MemberId))
        {
            var prefix = string.IsNullOrEmpty(request.ClientId) ? "member" : request.ClientId;
            member = new GroupMember($"{prefix}-{Guid.NewGuid():N}", request.ClientId);
            _members[member.MemberId] = member;
            UpdateMember(member, request);
            _log.Info("group {0}: member {1} joined", _groupId, member.MemberId);
            BeginRebalance($"member {member.MemberId} joined");
        }
        else if (_members.TryGetValue(request.MemberId, out member!))
        {
            var changed = !member.SameProtocols(request.Protocols);
            UpdateMember(member, request);
            if (_state == GroupState.Stable && !changed && member.MemberId != _leader)
            {
                // Nothing changed: hand back the current generation, as Kafka does for a follower.
                Sender.Tell(JoinReply(member, includeMembers: false));
                return;
            }
            if (_state != GroupState.PreparingRebalance) BeginRebalance($"member {member.MemberId} rejoined{(changed ? " with a new subscription" : "")}");
        }
        else
        {
            Sender.Tell(JoinError(ErrorCode.UnknownMemberId,
                $"member {request.MemberId} is not in group {_groupId} (its session may have expired); join again with an empty member id", request.MemberId));
            return;
        }

        member.AwaitingJoin = Sender;
        TryCompleteJoin();
    }

    private (ErrorCode Error, string Message)? ValidateJoin(JoinGroupRequest request)
    {
        if (string.IsNullOrEmpty(request.ProtocolType) || request.Protocols is null || request.Protocols.Count == 0)
            return (ErrorCode.InconsistentGroupProtocol, "a join must name a protocol type and at least one protocol (assignor)");
        var min = (int)_settings.MinSessionTimeout.TotalMilliseconds;
        var max = (int)_settings.MaxSessionTimeout.TotalMilliseconds;
        if (request.SessionTimeoutMs < min || request.SessionTimeoutMs > max)
            return (ErrorCode.InvalidSessionTimeout, $"session timeout {request.SessionTimeoutMs} ms is outside the broker's range {min}..{max} ms (broker.groups.min/max-session-timeout)");
        if (request.ProtocolType == Protocol.Groups.ConsumerProtocol.ProtocolType)
        {
            foreach (var p in request.Protocols)
            {
                if (GroupAssignmentPlanner.AssignsOnServer(request.ProtocolType, p.Name) && GroupAssignmentPlanner.TryDecode(p.Metadata) is null)
                    return (ErrorCode.InvalidRequest, $"the subscription sent for protocol {p.Name} could not be read; check that client and broker versions match");
            }
        }
        var others = 0;
        foreach (var m in _members.Values)
        {
            if (m.MemberId == request.MemberId) continue;
            others++;
        }
        if (others == 0) return null;
        if (request.ProtocolType != _protocolType && _protocolType.Length > 0)
            return (ErrorCode.InconsistentGroupProtocol, $"group {_groupId} uses protocol type '{_protocolType}', not '{request.ProtocolType}'");
        foreach (var p in request.Protocols)
        {
            var supportedByAll = true;
            foreach (var m in _members.Values)
            {
                if (m.MemberId != request.MemberId && !m.Supports(p.Name)) supportedByAll = false;
            }
            if (supportedByAll) return null;
        }
        return (ErrorCode.InconsistentGroupProtocol,
            $"none of the assignors [{string.Join(", ", Names(request.Protocols))}] is supported by every member of group {_groupId}; use the same partition.assignment.strategy in all its consumers");
    }

    private static IEnumerable<string> Names(IReadOnlyList<GroupProtocol> protocols)
    {
        foreach (var p in protocols) yield return p.Name;
    }

    private void UpdateMember(GroupMember member, JoinGroupRequest request)
    {
        member.ClientId = request.ClientId;
        member.SessionTimeoutMs = request.SessionTimeoutMs;
        member.RebalanceTimeoutMs = Math.Max(request.RebalanceTimeoutMs, request.SessionTimeoutMs);
        member.Protocols = request.Protocols;
        member.Touch();
        if (_protocolType.Length == 0 || _members.Count == 1) _protocolType = request.ProtocolType;
    }

    /// <summary>Moves to PreparingRebalance: members learn it from their next heartbeat (RebalanceInProgress) and rejoin.</summary>
    private void BeginRebalance(string reason)
    {
        if (_state == GroupState.PreparingRebalance) return;
        if (_state == GroupState.Empty) _joinNotBefore = Environment.TickCount64 + (long)_settings.InitialRebalanceDelay.TotalMilliseconds;
        // Members waiting for the leader's assignment will not get it now: they must rejoin.
        foreach (var m in _members.Values)
        {
            if (m.AwaitingSync is null) continue;
            m.AwaitingSync.Tell(new SyncGroupResponse(ErrorCode.RebalanceInProgress, $"group {_groupId} is rebalancing ({reason}); rejoin", []));
            m.AwaitingSync = null;
        }
        var timeout = 0;
        foreach (var m in _members.Values) timeout = Math.Max(timeout, m.RebalanceTimeoutMs);
        _rebalanceDeadline = Environment.TickCount64 + timeout;
        _state = GroupState.PreparingRebalance;
        _log.Info("group {0}: rebalancing generation {1}: {2}", _groupId, _generation, reason);
    }

    /// <summary>Starts the next generation once every member has rejoined (and a new group's initial delay has passed).</summary>
    private void TryCompleteJoin(bool deadlinePassed = false)
    {
        if (_state != GroupState.PreparingRebalance) return;
        var now = Environment.TickCount64;
        if (!deadlinePassed && now < _joinNotBefore) return;
        foreach (var m in _members.Values)
            if (m.AwaitingJoin is null && !deadlinePassed) return;

        if (deadlinePassed)
        {
            var laggards = new List<GroupMember>();
            foreach (var m in _members.Values)
                if (m.AwaitingJoin is null) laggards.Add(m);
            foreach (var m in laggards)
            {
                _log.Info("group {0}: member {1} did not rejoin within the rebalance timeout; removed", _groupId, m.MemberId);
                _members.Remove(m.MemberId);
            }
        }
        StartGeneration();
    }

    private void StartGeneration()
    {
        var generation = _generation + 1;
        if (_members.Count == 0)
        {
            PersistGeneration(new GenerationStarted(generation, _protocolType, "", "", []), () => { });
            return;
        }

        var members = SortedMembers();
        var protocol = GroupAssignmentPlanner.SelectProtocol(members) ?? members[0].Protocols[0].Name;
        var leader = _members.ContainsKey(_leader) ? _leader : members[0].MemberId;
        var onServer = GroupAssignmentPlanner.AssignsOnServer(_protocolType, protocol);
        Dictionary<string, byte[]>? assignments = null;
        if (onServer) assignments = GroupAssignmentPlanner.Assign(protocol, members, _partitionCounts);
        var handover = assignments is not null && CooperativeStickyAssignor.IsCooperative(protocol)
            && GroupAssignmentPlanner.WithholdOwnedByOthers(members, assignments) > 0;

        var persisted = new List<PersistedMember>(members.Count);
        foreach (var m in members)
        {
            persisted.Add(new PersistedMember(m.MemberId, m.ClientId, m.SessionTimeoutMs, m.RebalanceTimeoutMs,
                m.MetadataFor(protocol), assignments?.GetValueOrDefault(m.MemberId) ?? []));
        }
        var started = new GenerationStarted(generation, _protocolType, protocol, leader, persisted);
        var waiting = new Dictionary<string, IActorRef?>(StringComparer.Ordinal);
        foreach (var m in members) waiting[m.MemberId] = m.AwaitingJoin;

        PersistGeneration(started, () =>
        {
            _state = onServer ? GroupState.Stable : GroupState.CompletingRebalance;
            _log.Info("group {0}: generation {1} with {2} members (protocol {3}, leader {4})", _groupId, _generation, _members.Count, protocol, leader);
            foreach (var (memberId, replyTo) in waiting)
            {
                if (replyTo is null || !_members.TryGetValue(memberId, out var m)) continue;
                m.AwaitingJoin = null;
                m.Touch();
                replyTo.Tell(JoinReply(m, includeMembers: !onServer && memberId == _leader));
            }
            _handoverSyncs.Clear();
            if (handover)
            {
                foreach (var m in _members.Values) _handoverSyncs.Add(m.MemberId);
                _log.Info("group {0}: generation {1} withholds partitions still owned by other members; they move in a follow-up rebalance", _groupId, _generation);
            }
        });
    }

    private void PersistGeneration(GenerationStarted started, Action then)
    {
        var awaiting = new Dictionary<string, (IActorRef? Join, IActorRef? Sync)>(StringComparer.Ordinal);
        foreach (var m in _members.Values) awaiting[m.MemberId] = (m.AwaitingJoin, m.AwaitingSync);
        Persist(started, e =>
        {
            ApplyGeneration(e);
            // ApplyGeneration rebuilt the members from the event: keep who is waiting for a reply, and their sessions.
            foreach (var m in _members.Values)
            {
                if (awaiting.TryGetValue(m.MemberId, out var w))
                {
                    m.AwaitingJoin = w.Join;
                    m.AwaitingSync = w.Sync;
                }
                m.Touch();
            }
            if (e.Members.Count == 0)
            {
                _state = GroupState.Empty;
                _log.Info("group {0} is empty (generation {1})", _groupId, _generation);
            }
            then();
            CountEvent();
        });
    }

    private JoinGroupResponse JoinReply(GroupMember member, bool includeMembers)
    {
        var members = new List<JoinGroupMember>();
        if (includeMembers)
        {
            foreach (var m in SortedMembers()) members.Add(new JoinGroupMember(m.MemberId, m.MetadataFor(_protocol)));
        }
        return new JoinGroupResponse(ErrorCode.None, null, _generation, _protocol, _leader, member.MemberId, members);
    }

    private static JoinGroupResponse JoinError(ErrorCode error, string message, string memberId) =>
        new(error, message, -1, "", "", memberId ?? "", []);

    // ---- sync, heartbeat, leave ----

    private void Sync(SyncGroupRequest request)
    {
        if (CheckMember(request.MemberId, request.GenerationId) is { } error)
        {
            Sender.Tell(new SyncGroupResponse(error.Error, error.Message, []));
            return;
        }
        var member = _members[request.MemberId];
        member.Touch();
        switch (_state)
        {
            case GroupState.PreparingRebalance:
                Sender.Tell(new SyncGroupResponse(ErrorCode.RebalanceInProgress, $"group {_groupId} is rebalancing; rejoin", []));
                return;
            case GroupState.Stable:
                Sender.Tell(new SyncGroupResponse(ErrorCode.None, null, member.Assignment));
                // Once every member has its assignment (and so gives up what moves), hand the rest over.
                if (_handoverSyncs.Remove(member.MemberId) && _handoverSyncs.Count == 0)
                    BeginRebalance("handing over the partitions the last generation withheld (cooperative)");
                return;
        }

        // CompletingRebalance: the leader's assignments complete it; followers wait for them.
        member.AwaitingSync = Sender;
        if (request.MemberId != _leader || request.Assignments is null || request.Assignments.Count == 0) return;
        Persist(new AssignmentsSynced(_generation, request.Assignments), e =>
        {
            ApplySynced(e);
            _state = GroupState.Stable;
            foreach (var m in _members.Values)
            {
                if (m.AwaitingSync is null) continue;
                m.AwaitingSync.Tell(new SyncGroupResponse(ErrorCode.None, null, m.Assignment));
                m.AwaitingSync = null;
            }
            CountEvent();
        });
    }

    private void Heartbeat(HeartbeatRequest request)
    {
        if (CheckMember(request.MemberId, request.GenerationId) is { } error)
        {
            Sender.Tell(new HeartbeatResponse(error.Error, error.Message));
            return;
        }
        _members[request.MemberId].Touch();
        Sender.Tell(_state == GroupState.PreparingRebalance
            ? new HeartbeatResponse(ErrorCode.RebalanceInProgress, $"group {_groupId} is rebalancing; rejoin")
            : new HeartbeatResponse(ErrorCode.None, null));
    }

    private void Leave(LeaveGroupRequest request)
    {
        if (!_members.TryGetValue(request.MemberId ?? "", out var member))
        {
            Sender.Tell(new LeaveGroupResponse(_exists || _members.Count > 0 ? ErrorCode.UnknownMemberId : ErrorCode.UnknownGroup,
                _exists || _members.Count > 0 ? $"member {request.MemberId} is not in group {_groupId}" : UnknownGroupMessage()));
            return;
        }
        Sender.Tell(new LeaveGroupResponse(ErrorCode.None, null));
        RemoveMember(member, "left the group");
    }

    private void RemoveMember(GroupMember member, string why)
    {
        _members.Remove(member.MemberId);
        member.AwaitingJoin?.Tell(JoinError(ErrorCode.UnknownMemberId, $"member {member.MemberId} {why}", member.MemberId));
        member.AwaitingSync?.Tell(new SyncGroupResponse(ErrorCode.UnknownMemberId, $"member {member.MemberId} {why}", []));
        _log.Info("group {0}: member {1} {2}", _groupId, member.MemberId, why);
        if (_state == GroupState.PreparingRebalance)
        {
            TryCompleteJoin();
            if (_members.Count == 0 && _state == GroupState.PreparingRebalance) StartGeneration();
            return;
        }
        if (_members.Count == 0)
        {
            StartGeneration();
            return;
        }
        BeginRebalance($"member {member.MemberId} {why}");
    }

    private (ErrorCode Error, string Message)? CheckMember(string memberId, int generation)
    {
        if (!_members.ContainsKey(memberId ?? ""))
        {
            return _exists || _members.Count > 0
                ? (ErrorCode.UnknownMemberId, $"member {memberId} is not in group {_groupId} (its session may have expired); rejoin")
                : (ErrorCode.UnknownGroup, UnknownGroupMessage());
        }
        if (generation != _generation)
            return (ErrorCode.IllegalGeneration, $"generation {generation} is not the current generation {_generation} of group {_groupId}; rejoin");
        return null;
    }

    private void Tick()
    {
        var now = Environment.TickCount64;
        List<GroupMember>? expired = null;
        foreach (var m in _members.Values)
        {
            // A member waiting for its join or sync reply is alive: it cannot heartbeat meanwhile.
            if (m.AwaitingJoin is null && m.AwaitingSync is null && now > m.SessionDeadline) (expired ??= []).Add(m);
        }
        if (expired is not null)
        {
            foreach (var m in expired) RemoveMember(m, $"missed its session timeout of {m.SessionTimeoutMs} ms");
        }
        if (_state == GroupState.PreparingRebalance) TryCompleteJoin(deadlinePassed: now >= _rebalanceDeadline);
    }

    /// <summary>A subscribed topic gained partitions or came into existence: the assignment must cover them.</summary>
    private void OnTopics(TopicsSnapshot snapshot)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in snapshot.Topics) counts[t.Name] = t.Partitions;
        _partitionCounts = counts;
        if (_state != GroupState.Stable || !GroupAssignmentPlanner.AssignsOnServer(_protocolType, _protocol)) return;
        foreach (var (topic, used) in _assignedCounts)
        {
            var now = counts.GetValueOrDefault(topic);
            if (now == used) continue;
            BeginRebalance($"topic {topic} now has {now} partitions (assigned {used})");
            return;
        }
    }

    // ---- offsets ----

    private void Commit(OffsetCommitRequest request)
    {
        var offsets = request.Offsets ?? [];
        var results = new List<OffsetCommitPartitionResult>(offsets.Count);
        var accepted = new List<CommittedOffset>(offsets.Count);
        List<TopicPartitionId>? owned = null;

        if (request.GenerationId < 0 && string.IsNullOrEmpty(request.MemberId))
        {
            if (_members.Count > 0)
            {
                Sender.Tell(new OffsetCommitResponse(ErrorCode.NonEmptyGroup,
                    $"group {_groupId} has {_members.Count} active members; offsets can be set from outside only while it is empty (stop its consumers first)", []));
                return;
            }
        }
        else
        {
            if (CheckMember(request.MemberId, request.GenerationId) is { } error)
            {
                Sender.Tell(new OffsetCommitResponse(error.Error, error.Message, []));
                return;
            }
            if (_state == GroupState.CompletingRebalance)
            {
                Sender.Tell(new OffsetCommitResponse(ErrorCode.RebalanceInProgress, $"group {_groupId} is completing a rebalance; rejoin and commit again", []));
                return;
            }
            var member = _members[request.MemberId];
            member.Touch();
            if (_protocolType == Protocol.Groups.ConsumerProtocol.ProtocolType) owned = CommittablePartitions(member);
        }

        foreach (var o in offsets)
        {
            var tp = new TopicPartitionId(o.Topic ?? "", o.Partition);
            if (o.Offset < 0)
                results.Add(new OffsetCommitPartitionResult(tp.Topic, tp.Partition, ErrorCode.InvalidOffset, $"offset {o.Offset} for {tp} is negative; commit the next offset to read (0 or more)"));
            else if (owned is not null && !owned.Contains(tp))
                results.Add(new OffsetCommitPartitionResult(tp.Topic, tp.Partition, ErrorCode.PartitionNotAssigned,
                    $"{tp} is not assigned to member {request.MemberId} in generation {_generation}; only a partition's owner commits it"));
            else
            {
                accepted.Add(new CommittedOffset(tp.Topic, tp.Partition, o.Offset, o.Metadata));
                results.Add(new OffsetCommitPartitionResult(tp.Topic, tp.Partition, ErrorCode.None, null));
            }
        }
        var response = new OffsetCommitResponse(ErrorCode.None, null, results);
        if (accepted.Count == 0)
        {
            Sender.Tell(response);
            return;
        }
        var replyTo = Sender;
        Persist(new OffsetsCommitted(accepted), e =>
        {
            ApplyCommitted(e);
            replyTo.Tell(response);
            CountEvent();
        });
    }

    /// <summary>
    /// What a member may commit: its partitions in this generation, and those it had in the previous one that
    /// nobody else has been given yet (it commits them while handing them over, in a cooperative rebalance).
    /// </summary>
    private List<TopicPartitionId> CommittablePartitions(GroupMember member)
    {
        var partitions = new List<TopicPartitionId>(GroupAssignmentPlanner.Partitions(_protocolType, member.Assignment));
        if (!_previousAssignments.TryGetValue(member.MemberId, out var previous)) return partitions;
        var previousPartitions = GroupAssignmentPlanner.Partitions(_protocolType, previous);
        if (previousPartitions.Count == 0) return partitions;
        // Decode every other member's assignment once, not once per previously owned partition.
        var takenByOthers = new HashSet<TopicPartitionId>();
        foreach (var other in _members.Values)
        {
            if (other.MemberId == member.MemberId) continue;
            foreach (var p in GroupAssignmentPlanner.Partitions(_protocolType, other.Assignment)) takenByOthers.Add(p);
        }
        foreach (var p in previousPartitions)
            if (!takenByOthers.Contains(p) && !partitions.Contains(p)) partitions.Add(p);
        return partitions;
    }

    private void FetchOffsets(OffsetFetchRequest request)
    {
        var list = new List<CommittedOffset>();
        if (request.Partitions is null)
        {
            list = SortedOffsets();
        }
        else
        {
            foreach (var tp in request.Partitions)
                list.Add(_offsets.TryGetValue(tp, out var c) ? c : new CommittedOffset(tp.Topic, tp.Partition, -1, null));
        }
        // A group without commits is not an error here: a new consumer group asks exactly that.
        Sender.Tell(new OffsetFetchResponse(ErrorCode.None, null, list));
    }

    private DescribeGroupResponse Describe()
    {
        if (!_exists && _members.Count == 0)
            return new DescribeGroupResponse(ErrorCode.UnknownGroup, UnknownGroupMessage(), _groupId, nameof(GroupState.Dead), "", "", 0, [], []);
        var members = new List<GroupMemberDescription>(_members.Count);
        foreach (var m in SortedMembers())
            members.Add(new GroupMemberDescription(m.MemberId, m.ClientId, GroupAssignmentPlanner.Partitions(_protocolType, m.Assignment)));
        return new DescribeGroupResponse(ErrorCode.None, null, _groupId, _state.ToString(), _protocolType, _protocol, _generation, members, SortedOffsets());
    }

    /// <summary>Every committed offset, by topic then partition.</summary>
    private List<CommittedOffset> SortedOffsets()
    {
        var offsets = new List<CommittedOffset>(_offsets.Values);
        offsets.Sort(static (a, b) => a.Topic == b.Topic ? a.Partition.CompareTo(b.Partition) : string.CompareOrdinal(a.Topic, b.Topic));
        return offsets;
    }

    private string UnknownGroupMessage() => $"group {_groupId} does not exist; list groups with `broker groups list`";

    // ---- snapshots ----

    private void CountEvent()
    {
        if (++_eventsSinceSnapshot < _settings.SnapshotEveryEvents) return;
        _eventsSinceSnapshot = 0;
        var members = new List<PersistedMember>(_members.Count);
        foreach (var m in SortedMembers())
            members.Add(new PersistedMember(m.MemberId, m.ClientId, m.SessionTimeoutMs, m.RebalanceTimeoutMs, m.MetadataFor(_protocol), m.Assignment));
        SaveSnapshot(new GroupSnapshot(new GenerationStarted(_generation, _protocolType, _protocol, _leader, members), [.. _offsets.Values]));
    }

    private List<GroupMember> SortedMembers()
    {
        var list = new List<GroupMember>(_members.Values);
        list.Sort(static (a, b) => string.CompareOrdinal(a.MemberId, b.MemberId));
        return list;
    }
}
