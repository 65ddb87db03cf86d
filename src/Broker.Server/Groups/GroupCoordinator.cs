using Akka.Event;
using Broker.Protocol;
using Broker.Protocol.Groups;
using Broker.Protocol.Messages;
using Broker.Server.Groups.Assignment;
using Broker.Server.Serialization;

namespace Broker.Server.Groups;

/// <summary>
/// One consumer group's rules, without an actor: join, sync, heartbeat, leave, session expiry, rebalance
/// deadlines and commit fencing (Kafka's classic group protocol). Each request becomes a <see cref="GroupOutcome"/>
/// (journal events, already applied here, and replies); <see cref="Apply(IServerMessage)"/> replays the same events
/// on recovery. Time comes from a <see cref="TimeProvider"/>, so the rules are tested with a fake clock.
///
/// States: Empty -> PreparingRebalance when a member joins; it gathers members until every known member has
/// rejoined (or the rebalance timeout removes the laggards), then starts a new generation: with one of our
/// assignors the coordinator computes the assignment and the group goes straight to Stable; otherwise it waits
/// in CompletingRebalance for the leader's SyncGroup and relays the assignment bytes. Stable ->
/// PreparingRebalance when a member joins, leaves, changes its subscription, misses its session timeout, or a
/// subscribed topic gains partitions (or is created). Any state -> Empty when the last member goes. Dead is how
/// a group that never existed describes itself. The state is a field, not separate handlers, because every
/// request is valid in every state with a state-dependent answer, as in Kafka's GroupCoordinator.
///
/// Who waits for a join or sync reply is known here only as a flag on the member; the actor that hosts this
/// keeps the requesters (<see cref="GroupOutcome.Parked"/>), so nothing of the transport is in the model.
/// Events are applied when they are decided: the actor persists them before it sends the replies and handles
/// nothing else meanwhile, and if persisting fails it stops and recovers from the journal.
/// </summary>
internal sealed class GroupCoordinator
{
    private readonly string _groupId;
    private readonly GroupSettings _settings;
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly ILoggingAdapter _log;
    private readonly Dictionary<string, GroupMember> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<TopicPartition, CommittedOffset> _offsets = new();
    // Each member's assignment in the previous generation: a member may still commit what it is handing over.
    private Dictionary<string, MemberAssignment> _previousAssignments = new(StringComparer.Ordinal);
    // Cooperative rebalancing: members that must fetch this generation's assignment (and so give up what
    // moves) before the follow-up rebalance that hands those partitions to their new owners.
    private readonly HashSet<string> _handoverSyncs = new(StringComparer.Ordinal);
    private Dictionary<string, int> _partitionCounts = new(StringComparer.Ordinal);
    private Dictionary<string, int> _assignedCounts = new(StringComparer.Ordinal);

    private string _protocolType = "";
    private string _protocol = "";
    private string _leader = "";
    private bool _exists;
    // The last GenerationStarted applied, with the assignments AssignmentsSynced gave it: what a snapshot carries.
    private GenerationStarted _writtenGeneration = NoGeneration;
    private long _rebalanceDeadline;
    private long _joinNotBefore;
    // KIP-848: the group's state when it is a consumer-protocol group (ConsumerGroupHeartbeat); a group is one or the other.
    private readonly ConsumerGroup _consumer;

    public GroupCoordinator(string groupId, GroupSettings settings, TimeProvider time, ILoggingAdapter? log = null)
    {
        _groupId = groupId;
        _settings = settings;
        _time = time;
        _started = time.GetTimestamp();
        _log = log ?? NoLogger.Instance;
        _consumer = new ConsumerGroup(groupId, settings.Consumer, () => Now);
    }

    /// <summary>The group is a KIP-848 consumer group: it has a consumer-protocol epoch and no classic members.</summary>
    private bool IsConsumerGroup => _consumer.Exists && _members.Count == 0;

    public GroupState State { get; private set; } = GroupState.Empty;

    public int Generation { get; private set; }

    /// <summary>Whether the group exists (has had members or offsets since it was created or last deleted).</summary>
    public bool Exists => _exists;

    /// <summary>Milliseconds since this coordinator was created, on its clock.</summary>
    private long Now => (long)_time.GetElapsedTime(_started).TotalMilliseconds;

    // ---- recovery ----

    /// <summary>Replays a journal event (recovery); the same code applies events as they are decided.</summary>
    public void Apply(IServerMessage e)
    {
        switch (e)
        {
            case GenerationStarted started: ApplyGeneration(started); break;
            case AssignmentsSynced synced: ApplySynced(synced); break;
            case OffsetsCommitted committed: ApplyCommitted(committed); break;
            case GroupSnapshot snapshot:
                // The whole state: a read that starts at a trimmed log start begins with it, and one that does not
                // (an older log start) must end up the same, so offsets deleted before it do not come back.
                ApplyGeneration(snapshot.Generation);
                _offsets.Clear();
                foreach (var o in snapshot.Offsets) _offsets[new TopicPartition(o.Topic, o.Partition)] = o;
                // A snapshot taken after a delete holds nothing: the group does not exist until it is used again.
                _exists = snapshot.Generation.GenerationId > 0 || snapshot.Offsets.Count > 0 || _members.Count > 0;
                break;
            case GroupDeleted: ApplyDeleted(); break;
            case OffsetsDeleted deleted:
                foreach (var p in deleted.Partitions) _offsets.Remove(p);
                break;
            case ConsumerGroupUpdated updated:
                _exists = true;
                _consumer.Apply(updated);
                break;
        }
    }

    private void ApplyDeleted()
    {
        _exists = false;
        _writtenGeneration = NoGeneration;
        Generation = 0;
        _protocolType = "";
        _protocol = "";
        _leader = "";
        _members.Clear();
        _offsets.Clear();
        _previousAssignments = new(StringComparer.Ordinal);
        _assignedCounts = new(StringComparer.Ordinal);
        _consumer.Clear();
        State = GroupState.Empty;
    }

    private static readonly GenerationStarted NoGeneration = new(0, "", "", "", []);

    private void ApplyGeneration(GenerationStarted e)
    {
        _exists = true;
        _writtenGeneration = e;
        Generation = e.GenerationId;
        _protocolType = e.ProtocolType;
        _protocol = e.Protocol;
        _leader = e.LeaderId;
        var previous = new Dictionary<string, MemberAssignment>(StringComparer.Ordinal);
        foreach (var m in _members.Values) previous[m.MemberId] = m.Assignment;
        _previousAssignments = previous;
        _members.Clear();
        // Classic members took an empty consumer group over (as Kafka converts it): the consumer state is gone.
        if (e.Members.Count > 0) _consumer.Clear();
        var now = Now;
        foreach (var m in e.Members)
        {
            var member = new GroupMember(m.MemberId, m.ClientId)
            {
                SessionTimeoutMs = m.SessionTimeoutMs,
                RebalanceTimeoutMs = m.RebalanceTimeoutMs,
                Protocols = [new GroupProtocol(e.Protocol, m.Metadata)],
                Assignment = MemberAssignment.Decode(e.ProtocolType, m.Assignment),
            };
            member.Touch(now);
            _members[m.MemberId] = member;
        }
        _assignedCounts = AssignedCounts(e, _members.Values);
        State = _members.Count == 0 ? GroupState.Empty : AllAssigned() ? GroupState.Stable : GroupState.CompletingRebalance;
    }

    /// <summary>How many partitions of each subscribed topic the generation assigned: a topic that now has more needs a rebalance.</summary>
    private static Dictionary<string, int> AssignedCounts(GenerationStarted e, IEnumerable<GroupMember> members)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!GroupAssignmentPlanner.AssignsOnServer(e.ProtocolType, e.Protocol)) return counts;
        foreach (var m in e.Members)
        {
            if (GroupAssignmentPlanner.TryDecode(m.Metadata) is { } subscription)
            {
                foreach (var topic in subscription.Topics) counts.TryAdd(topic, 0);
            }
        }
        foreach (var m in members)
            foreach (var p in m.Assignment.Partitions) counts[p.Topic] = counts.GetValueOrDefault(p.Topic) + 1;
        return counts;
    }

    private void ApplySynced(AssignmentsSynced e)
    {
        if (e.GenerationId != Generation) return;
        var synced = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var a in e.Assignments) synced[a.MemberId] = a.Assignment;
        var members = new List<PersistedMember>(_writtenGeneration.Members.Count);
        foreach (var m in _writtenGeneration.Members) members.Add(synced.TryGetValue(m.MemberId, out var bytes) ? m with { Assignment = bytes } : m);
        _writtenGeneration = _writtenGeneration with { Members = members };
        foreach (var a in e.Assignments)
            if (_members.TryGetValue(a.MemberId, out var member)) member.Assignment = MemberAssignment.Decode(_protocolType, a.Assignment);
        if (State == GroupState.CompletingRebalance) State = GroupState.Stable;
    }

    private void ApplyCommitted(OffsetsCommitted e)
    {
        _exists = true;
        foreach (var o in e.Offsets) _offsets[new TopicPartition(o.Topic, o.Partition)] = o;
    }

    /// <summary>
    /// After recovery: members of the recovered generation get a fresh session, so if they are alive their
    /// heartbeats carry on; if not, they expire and the group rebalances without them.
    /// </summary>
    public GroupOutcome Recovered()
    {
        var outcome = new GroupOutcome();
        var now = Now;
        foreach (var member in _members.Values) member.Touch(now);
        _consumer.Recovered();
        if (_members.Count == 0) State = GroupState.Empty;
        else if (AllAssigned()) State = GroupState.Stable;
        else BeginRebalance(outcome, "the leader's assignment was not recorded before the restart");
        if (_exists) _log.Info("group {0} recovered: generation {1}, {2} members, {3} committed offsets", _groupId, Generation, _members.Count, _offsets.Count);
        return outcome;
    }

    private bool AllAssigned()
    {
        if (GroupAssignmentPlanner.AssignsOnServer(_protocolType, _protocol)) return true;
        foreach (var m in _members.Values)
            if (m.Assignment.IsEmpty) return false;
        return true;
    }

    /// <summary>
    /// What the group's events so far amount to: the last generation written (with the assignments synced into it)
    /// and every committed offset, so a read of the log may start at it. Built from what was written, not from the
    /// members in memory: a member that joined a rebalance still in progress is not part of any generation yet.
    /// </summary>
    public GroupSnapshot Snapshot() => new(_writtenGeneration, [.. SortedOffsets()]);

    /// <summary>A checkpoint (<see cref="GroupCheckpoints"/>): the group's whole state as one event, nothing to reply.</summary>
    public GroupOutcome Checkpoint()
    {
        var outcome = new GroupOutcome();
        outcome.Events.Add(Snapshot());
        // A KIP-848 group's members, epochs and assignments live in its ConsumerGroupUpdated records, not in the
        // snapshot: the checkpoint carries the latest whole one too, or trimming the log below it would forget them.
        if (_consumer.Exists) outcome.Events.Add(_consumer.ToEvent());
        return outcome;
    }

    // ---- join ----

    public GroupOutcome Join(JoinGroupRequest request)
    {
        var outcome = new GroupOutcome();
        if (_consumer.MemberCount > 0)
        {
            // Kafka answers a classic member it cannot take into a consumer group with INCONSISTENT_GROUP_PROTOCOL (it
            // can mix classic and consumer members in one group; this broker does not).
            return outcome.ToRequester(JoinError(ErrorCode.InconsistentGroupProtocol,
                $"group {_groupId} is a consumer group (KIP-848, group.protocol=consumer) with {_consumer.MemberCount} member(s); a classic member cannot join it", request.MemberId));
        }
        if (ValidateJoin(request) is { } invalid)
            return outcome.ToRequester(JoinError(invalid.Error, invalid.Message, request.MemberId));

        GroupMember member;
        if (string.IsNullOrEmpty(request.MemberId))
        {
            var prefix = string.IsNullOrEmpty(request.ClientId) ? "member" : request.ClientId;
            member = new GroupMember($"{prefix}-{Guid.NewGuid():N}", request.ClientId);
            _members[member.MemberId] = member;
            UpdateMember(member, request);
            _log.Info("group {0}: member {1} joined", _groupId, member.MemberId);
            BeginRebalance(outcome, $"member {member.MemberId} joined");
        }
        else if (_members.TryGetValue(request.MemberId, out member!))
        {
            var changed = !member.SameProtocols(request.Protocols);
            UpdateMember(member, request);
            // Nothing changed: hand back the current generation, as Kafka does for a follower.
            if (State == GroupState.Stable && !changed && member.MemberId != _leader)
                return outcome.ToRequester(JoinReply(member, includeMembers: false));
            if (State != GroupState.PreparingRebalance) BeginRebalance(outcome, $"member {member.MemberId} rejoined{(changed ? " with a new subscription" : "")}");
        }
        else
        {
            return outcome.ToRequester(JoinError(ErrorCode.UnknownMemberId,
                $"member {request.MemberId} is not in group {_groupId} (its session may have expired); join again with an empty member id", request.MemberId));
        }

        member.AwaitingJoin = true;
        outcome.Parked = (ReplyTarget.PendingJoin, member.MemberId);
        TryCompleteJoin(outcome);
        return outcome;
    }

    private (ErrorCode Error, string Message)? ValidateJoin(JoinGroupRequest request)
    {
        if (string.IsNullOrEmpty(request.ProtocolType) || request.Protocols is null || request.Protocols.Count == 0)
            return (ErrorCode.InconsistentGroupProtocol, "a join must name a protocol type and at least one protocol (assignor)");
        var min = (int)_settings.MinSessionTimeout.TotalMilliseconds;
        var max = (int)_settings.MaxSessionTimeout.TotalMilliseconds;
        if (request.SessionTimeoutMs < min || request.SessionTimeoutMs > max)
            return (ErrorCode.InvalidSessionTimeout, $"session timeout {request.SessionTimeoutMs} ms is outside the broker's range {min}..{max} ms (broker.groups.min/max-session-timeout)");
        if (request.ProtocolType == ConsumerProtocol.ProtocolType)
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
        member.Touch(Now);
        if (_protocolType.Length == 0 || _members.Count == 1) _protocolType = request.ProtocolType;
    }

    /// <summary>Moves to PreparingRebalance: members learn it from their next heartbeat (RebalanceInProgress) and rejoin.</summary>
    private void BeginRebalance(GroupOutcome outcome, string reason)
    {
        if (State == GroupState.PreparingRebalance) return;
        var now = Now;
        if (State == GroupState.Empty) _joinNotBefore = now + (long)_settings.InitialRebalanceDelay.TotalMilliseconds;
        // Members waiting for the leader's assignment will not get it now: they must rejoin.
        foreach (var m in _members.Values)
        {
            if (!m.AwaitingSync) continue;
            outcome.ToPendingSync(m.MemberId, new SyncGroupResponse(ErrorCode.RebalanceInProgress, $"group {_groupId} is rebalancing ({reason}); rejoin", []));
            m.AwaitingSync = false;
        }
        var timeout = 0;
        foreach (var m in _members.Values) timeout = Math.Max(timeout, m.RebalanceTimeoutMs);
        _rebalanceDeadline = now + timeout;
        State = GroupState.PreparingRebalance;
        _log.Info("group {0}: rebalancing generation {1}: {2}", _groupId, Generation, reason);
    }

    /// <summary>Starts the next generation once every member has rejoined (and a new group's initial delay has passed).</summary>
    private void TryCompleteJoin(GroupOutcome outcome, bool deadlinePassed = false)
    {
        if (State != GroupState.PreparingRebalance) return;
        if (!deadlinePassed && Now < _joinNotBefore) return;
        foreach (var m in _members.Values)
            if (!m.AwaitingJoin && !deadlinePassed) return;

        if (deadlinePassed)
        {
            var laggards = new List<GroupMember>();
            foreach (var m in _members.Values)
                if (!m.AwaitingJoin) laggards.Add(m);
            foreach (var m in laggards)
            {
                _log.Info("group {0}: member {1} did not rejoin within the rebalance timeout; removed", _groupId, m.MemberId);
                _members.Remove(m.MemberId);
            }
        }
        StartGeneration(outcome);
    }

    private void StartGeneration(GroupOutcome outcome)
    {
        var generation = Generation + 1;
        if (_members.Count == 0)
        {
            Persist(outcome, new GenerationStarted(generation, _protocolType, "", "", []));
            _log.Info("group {0} is empty (generation {1})", _groupId, Generation);
            return;
        }

        var members = SortedMembers();
        var protocol = GroupAssignmentPlanner.SelectProtocol(members) ?? members[0].Protocols[0].Name;
        var leader = _members.ContainsKey(_leader) ? _leader : members[0].MemberId;
        var onServer = GroupAssignmentPlanner.AssignsOnServer(_protocolType, protocol);
        Dictionary<string, IReadOnlyList<TopicPartition>>? assignments = null;
        if (onServer) assignments = GroupAssignmentPlanner.Assign(protocol, members, _partitionCounts);
        var handover = assignments is not null && CooperativeStickyAssignor.IsCooperative(protocol)
            && GroupAssignmentPlanner.WithholdOwnedByOthers(members, assignments) > 0;

        var persisted = new List<PersistedMember>(members.Count);
        var waiting = new List<string>(members.Count);
        foreach (var m in members)
        {
            persisted.Add(new PersistedMember(m.MemberId, m.ClientId, m.SessionTimeoutMs, m.RebalanceTimeoutMs,
                m.MetadataFor(protocol), assignments is null ? [] : ConsumerProtocol.EncodeAssignment(assignments[m.MemberId])));
            if (m.AwaitingJoin) waiting.Add(m.MemberId);
        }
        // Applying the event rebuilds the members from it, with fresh sessions and nobody waiting.
        Persist(outcome, new GenerationStarted(generation, _protocolType, protocol, leader, persisted));
        _log.Info("group {0}: generation {1} with {2} members (protocol {3}, leader {4})", _groupId, Generation, _members.Count, protocol, leader);
        foreach (var memberId in waiting)
        {
            if (_members.TryGetValue(memberId, out var m))
                outcome.ToPendingJoin(memberId, JoinReply(m, includeMembers: !onServer && memberId == _leader));
        }
        _handoverSyncs.Clear();
        if (handover)
        {
            foreach (var m in _members.Values) _handoverSyncs.Add(m.MemberId);
            _log.Info("group {0}: generation {1} withholds partitions still owned by other members; they move in a follow-up rebalance", _groupId, Generation);
        }
    }

    private void Persist(GroupOutcome outcome, IServerMessage e)
    {
        outcome.Events.Add(e);
        Apply(e);
    }

    private JoinGroupResponse JoinReply(GroupMember member, bool includeMembers)
    {
        var members = new List<JoinGroupMember>();
        if (includeMembers)
        {
            foreach (var m in SortedMembers()) members.Add(new JoinGroupMember(m.MemberId, m.MetadataFor(_protocol)));
        }
        return new JoinGroupResponse(ErrorCode.None, null, Generation, _protocol, _leader, member.MemberId, members);
    }

    private static JoinGroupResponse JoinError(ErrorCode error, string message, string memberId) =>
        new(error, message, -1, "", "", memberId ?? "", []);

    // ---- KIP-848 consumer groups ----

    /// <summary>
    /// ConsumerGroupHeartbeat (<see cref="ConsumerGroup"/> has the rules). A group with classic members is refused as
    /// Kafka refuses it when it does not convert the group: GROUP_ID_NOT_FOUND, "not a consumer group".
    /// </summary>
    public GroupOutcome ConsumerHeartbeat(ConsumerGroupHeartbeatRequest request)
    {
        var outcome = new GroupOutcome();
        if (_members.Count > 0)
        {
            return outcome.ToRequester(new ConsumerGroupHeartbeatResponse(ErrorCode.UnknownGroup,
                $"group {_groupId} is not a consumer group: it has {_members.Count} classic member(s) (group.protocol=classic)", request.MemberId, request.MemberEpoch, 0, null));
        }
        var events = new List<ConsumerGroupUpdated>();
        var reply = _consumer.Heartbeat(request, events);
        if (events.Count > 0)
        {
            _exists = true;
            // One event holds the whole state: the last one says everything.
            outcome.Events.Add(events[^1]);
        }
        return outcome.ToRequester(reply);
    }

    /// <summary>ConsumerGroupDescribe: GROUP_ID_NOT_FOUND for a group that does not exist or is a classic one, as in Kafka.</summary>
    public DescribeConsumerGroupResponse DescribeConsumer()
    {
        if (!IsConsumerGroup)
        {
            var why = _members.Count > 0 || Generation > 0 ? $"group {_groupId} is not a consumer group" : UnknownGroupMessage();
            return new DescribeConsumerGroupResponse(ErrorCode.UnknownGroup, why, _groupId, "Dead", 0, 0, "", []);
        }
        return _consumer.Describe();
    }

    // ---- sync, heartbeat, leave ----

    public GroupOutcome Sync(SyncGroupRequest request)
    {
        var outcome = new GroupOutcome();
        if (CheckMember(request.MemberId, request.GenerationId) is { } error)
            return outcome.ToRequester(new SyncGroupResponse(error.Error, error.Message, []));
        var member = _members[request.MemberId];
        member.Touch(Now);
        switch (State)
        {
            case GroupState.PreparingRebalance:
                return outcome.ToRequester(new SyncGroupResponse(ErrorCode.RebalanceInProgress, $"group {_groupId} is rebalancing; rejoin", []));
            case GroupState.Stable:
                outcome.ToRequester(new SyncGroupResponse(ErrorCode.None, null, member.Assignment.Bytes));
                // Once every member has its assignment (and so gives up what moves), hand the rest over.
                if (_handoverSyncs.Remove(member.MemberId) && _handoverSyncs.Count == 0)
                    BeginRebalance(outcome, "handing over the partitions the last generation withheld (cooperative)");
                return outcome;
        }

        // CompletingRebalance: the leader's assignments complete it; followers wait for them.
        member.AwaitingSync = true;
        outcome.Parked = (ReplyTarget.PendingSync, member.MemberId);
        if (request.MemberId != _leader || request.Assignments is null || request.Assignments.Count == 0) return outcome;
        Persist(outcome, new AssignmentsSynced(Generation, request.Assignments));
        foreach (var m in _members.Values)
        {
            if (!m.AwaitingSync) continue;
            outcome.ToPendingSync(m.MemberId, new SyncGroupResponse(ErrorCode.None, null, m.Assignment.Bytes));
            m.AwaitingSync = false;
        }
        return outcome;
    }

    public GroupOutcome Heartbeat(HeartbeatRequest request)
    {
        var outcome = new GroupOutcome();
        if (CheckMember(request.MemberId, request.GenerationId) is { } error)
            return outcome.ToRequester(new HeartbeatResponse(error.Error, error.Message));
        _members[request.MemberId].Touch(Now);
        return outcome.ToRequester(State == GroupState.PreparingRebalance
            ? new HeartbeatResponse(ErrorCode.RebalanceInProgress, $"group {_groupId} is rebalancing; rejoin")
            : new HeartbeatResponse(ErrorCode.None, null));
    }

    public GroupOutcome Leave(LeaveGroupRequest request)
    {
        var outcome = new GroupOutcome();
        if (!_members.TryGetValue(request.MemberId ?? "", out var member))
        {
            var known = _exists || _members.Count > 0;
            return outcome.ToRequester(new LeaveGroupResponse(known ? ErrorCode.UnknownMemberId : ErrorCode.UnknownGroup,
                known ? $"member {request.MemberId} is not in group {_groupId}" : UnknownGroupMessage()));
        }
        outcome.ToRequester(new LeaveGroupResponse(ErrorCode.None, null));
        RemoveMember(outcome, member, "left the group");
        return outcome;
    }

    private void RemoveMember(GroupOutcome outcome, GroupMember member, string why)
    {
        _members.Remove(member.MemberId);
        if (member.AwaitingJoin) outcome.ToPendingJoin(member.MemberId, JoinError(ErrorCode.UnknownMemberId, $"member {member.MemberId} {why}", member.MemberId));
        if (member.AwaitingSync) outcome.ToPendingSync(member.MemberId, new SyncGroupResponse(ErrorCode.UnknownMemberId, $"member {member.MemberId} {why}", []));
        _log.Info("group {0}: member {1} {2}", _groupId, member.MemberId, why);
        if (State == GroupState.PreparingRebalance)
        {
            TryCompleteJoin(outcome);
            if (_members.Count == 0 && State == GroupState.PreparingRebalance) StartGeneration(outcome);
            return;
        }
        if (_members.Count == 0)
        {
            StartGeneration(outcome);
            return;
        }
        BeginRebalance(outcome, $"member {member.MemberId} {why}");
    }

    private (ErrorCode Error, string Message)? CheckMember(string memberId, int generation)
    {
        if (!_members.ContainsKey(memberId ?? ""))
        {
            return _exists || _members.Count > 0
                ? (ErrorCode.UnknownMemberId, $"member {memberId} is not in group {_groupId} (its session may have expired); rejoin")
                : (ErrorCode.UnknownGroup, UnknownGroupMessage());
        }
        if (generation != Generation)
            return (ErrorCode.IllegalGeneration, $"generation {generation} is not the current generation {Generation} of group {_groupId}; rejoin");
        return null;
    }

    /// <summary>Removes members whose session expired and ends a rebalance whose deadline passed; the actor calls it on a timer.</summary>
    public GroupOutcome Tick()
    {
        var outcome = new GroupOutcome();
        var now = Now;
        List<GroupMember>? expired = null;
        foreach (var m in _members.Values)
        {
            // A member waiting for its join or sync reply is alive: it cannot heartbeat meanwhile.
            if (!m.AwaitingJoin && !m.AwaitingSync && now > m.SessionDeadline) (expired ??= []).Add(m);
        }
        if (expired is not null)
        {
            foreach (var m in expired)
            {
                // A removal can start a generation, which rebuilds the members: remove the current one.
                if (_members.TryGetValue(m.MemberId, out var current)) RemoveMember(outcome, current, $"missed its session timeout of {m.SessionTimeoutMs} ms");
            }
        }
        if (State == GroupState.PreparingRebalance) TryCompleteJoin(outcome, deadlinePassed: now >= _rebalanceDeadline);
        var events = new List<ConsumerGroupUpdated>();
        _consumer.Tick(events);
        if (events.Count > 0) outcome.Events.Add(events[^1]);
        return outcome;
    }

    /// <summary>The topics' partition counts changed: a subscribed topic that gained partitions or came into existence needs a rebalance.</summary>
    public GroupOutcome TopicsChanged(Dictionary<string, int> partitionCounts)
    {
        var outcome = new GroupOutcome();
        var counts = partitionCounts;
        _partitionCounts = counts;
        var events = new List<ConsumerGroupUpdated>();
        _consumer.TopicsChanged(counts, events);
        if (events.Count > 0) outcome.Events.Add(events[^1]);
        if (State != GroupState.Stable || !GroupAssignmentPlanner.AssignsOnServer(_protocolType, _protocol)) return outcome;
        foreach (var (topic, used) in _assignedCounts)
        {
            var now = counts.GetValueOrDefault(topic);
            if (now == used) continue;
            BeginRebalance(outcome, $"topic {topic} now has {now} partitions (assigned {used})");
            break;
        }
        return outcome;
    }

    // ---- offsets ----

    public GroupOutcome Commit(OffsetCommitRequest request)
    {
        var outcome = new GroupOutcome();
        var offsets = request.Offsets ?? [];
        var results = new List<OffsetCommitPartitionResult>(offsets.Count);
        var accepted = new List<CommittedOffset>(offsets.Count);
        List<TopicPartition>? owned = null;

        if (IsConsumerGroup)
        {
            // KIP-848: the member epoch fences commits; any partition may be committed, as in Kafka.
            if (_consumer.CheckCommit(request.MemberId, request.GenerationId) is { } fenced)
                return outcome.ToRequester(new OffsetCommitResponse(fenced.Error, fenced.Message, []));
        }
        else if (request.GenerationId < 0 && string.IsNullOrEmpty(request.MemberId))
        {
            if (_members.Count > 0)
            {
                return outcome.ToRequester(new OffsetCommitResponse(ErrorCode.NonEmptyGroup,
                    $"group {_groupId} has {_members.Count} active members; offsets can be set from outside only while it is empty (stop its consumers first)", []));
            }
        }
        else
        {
            if (CheckMember(request.MemberId, request.GenerationId) is { } error)
                return outcome.ToRequester(new OffsetCommitResponse(error.Error, error.Message, []));
            if (State == GroupState.CompletingRebalance)
                return outcome.ToRequester(new OffsetCommitResponse(ErrorCode.RebalanceInProgress, $"group {_groupId} is completing a rebalance; rejoin and commit again", []));
            var member = _members[request.MemberId];
            member.Touch(Now);
            if (_protocolType == ConsumerProtocol.ProtocolType) owned = CommittablePartitions(member);
        }

        foreach (var o in offsets)
        {
            var tp = new TopicPartition(o.Topic ?? "", o.Partition);
            if (o.Offset < 0 && !request.KeepsNegativeOffsets)
            {
                results.Add(new OffsetCommitPartitionResult(tp.Topic, tp.Partition, ErrorCode.InvalidOffset, $"offset {o.Offset} for {tp} is negative; commit the next offset to read (0 or more)"));
            }
            else if (owned is not null && !owned.Contains(tp))
            {
                results.Add(new OffsetCommitPartitionResult(tp.Topic, tp.Partition, ErrorCode.PartitionNotAssigned,
                    $"{tp} is not assigned to member {request.MemberId} in generation {Generation}; only a partition's owner commits it"));
            }
            else
            {
                accepted.Add(new CommittedOffset(tp.Topic, tp.Partition, o.Offset, o.Metadata));
                results.Add(new OffsetCommitPartitionResult(tp.Topic, tp.Partition, ErrorCode.None, null));
            }
        }
        if (accepted.Count > 0) Persist(outcome, new OffsetsCommitted(accepted));
        return outcome.ToRequester(new OffsetCommitResponse(ErrorCode.None, null, results));
    }

    /// <summary>
    /// What a member may commit: its partitions in this generation, and those it had in the previous one that
    /// nobody else has been given yet (it commits them while handing them over, in a cooperative rebalance).
    /// </summary>
    private List<TopicPartition> CommittablePartitions(GroupMember member)
    {
        var partitions = new List<TopicPartition>(member.Assignment.Partitions);
        if (!_previousAssignments.TryGetValue(member.MemberId, out var previous) || previous.Partitions.Count == 0) return partitions;
        var takenByOthers = new HashSet<TopicPartition>();
        foreach (var other in _members.Values)
        {
            if (other.MemberId == member.MemberId) continue;
            foreach (var p in other.Assignment.Partitions) takenByOthers.Add(p);
        }
        foreach (var p in previous.Partitions)
            if (!takenByOthers.Contains(p) && !partitions.Contains(p)) partitions.Add(p);
        return partitions;
    }

    // ---- deleting ----

    /// <summary>Kafka's DeleteGroups: only a group without members, and only one that exists.</summary>
    public GroupOutcome Delete()
    {
        var outcome = new GroupOutcome();
        if (!_exists && _members.Count == 0)
            return outcome.ToRequester(new DeleteGroupResponse(ErrorCode.UnknownGroup, UnknownGroupMessage(), _groupId));
        if (_members.Count + _consumer.MemberCount > 0)
            return outcome.ToRequester(new DeleteGroupResponse(ErrorCode.NonEmptyGroup, $"group {_groupId} has {_members.Count + _consumer.MemberCount} member(s); stop its consumers first", _groupId));
        outcome.Events.Add(GroupDeleted.Instance);
        ApplyDeleted();
        _log.Info("group {0} deleted", _groupId);
        return outcome.ToRequester(new DeleteGroupResponse(ErrorCode.None, null, _groupId));
    }

    /// <summary>Kafka's OffsetDelete: a partition assigned to a member keeps its offset (GroupSubscribedToTopic); the others lose theirs.</summary>
    public GroupOutcome DeleteOffsets(DeleteGroupOffsetsRequest request)
    {
        var outcome = new GroupOutcome();
        if (!_exists && _members.Count == 0)
            return outcome.ToRequester(new DeleteGroupOffsetsResponse(ErrorCode.UnknownGroup, UnknownGroupMessage(), []));
        var assigned = new HashSet<TopicPartition>();
        foreach (var m in _members.Values)
            foreach (var p in m.Assignment.Partitions) assigned.Add(p);
        _consumer.AddHeld(assigned);
        var results = new List<GroupOffsetDeletion>(request.Partitions.Count);
        var deleted = new List<TopicPartition>();
        foreach (var p in request.Partitions)
        {
            var subscribed = assigned.Contains(p);
            results.Add(new GroupOffsetDeletion(p.Topic, p.Partition, subscribed ? ErrorCode.GroupSubscribedToTopic : ErrorCode.None));
            if (!subscribed && _offsets.ContainsKey(p)) deleted.Add(p);
        }
        if (deleted.Count > 0)
        {
            var e = new OffsetsDeleted(deleted);
            outcome.Events.Add(e);
            Apply(e);
        }
        return outcome.ToRequester(new DeleteGroupOffsetsResponse(ErrorCode.None, null, results));
    }

    public OffsetFetchResponse FetchOffsets(OffsetFetchRequest request)
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
        return new OffsetFetchResponse(ErrorCode.None, null, list);
    }

    public DescribeGroupResponse Describe()
    {
        if (!_exists && _members.Count == 0)
            return new DescribeGroupResponse(ErrorCode.UnknownGroup, UnknownGroupMessage(), _groupId, nameof(GroupState.Dead), "", "", 0, [], []);
        if (IsConsumerGroup)
        {
            return new DescribeGroupResponse(ErrorCode.None, null, _groupId, _consumer.State, ConsumerProtocol.ProtocolType, _consumer.Assignor,
                _consumer.GroupEpoch, _consumer.DescribeMembers(), SortedOffsets(), GroupType.Consumer);
        }
        var members = new List<GroupMemberDescription>(_members.Count);
        foreach (var m in SortedMembers())
            members.Add(new GroupMemberDescription(m.MemberId, m.ClientId, m.Assignment.Partitions));
        return new DescribeGroupResponse(ErrorCode.None, null, _groupId, State.ToString(), _protocolType, _protocol, Generation, members, SortedOffsets());
    }

    /// <summary>Every committed offset, by topic then partition.</summary>
    private List<CommittedOffset> SortedOffsets()
    {
        var offsets = new List<CommittedOffset>(_offsets.Values);
        offsets.Sort(static (a, b) => a.Topic == b.Topic ? a.Partition.CompareTo(b.Partition) : string.CompareOrdinal(a.Topic, b.Topic));
        return offsets;
    }

    private string UnknownGroupMessage() => $"group {_groupId} does not exist; list groups with `broker groups list`";

    private List<GroupMember> SortedMembers()
    {
        var list = new List<GroupMember>(_members.Values);
        list.Sort(static (a, b) => string.CompareOrdinal(a.MemberId, b.MemberId));
        return list;
    }
}
