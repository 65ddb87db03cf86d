using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Groups.Assignment;

namespace Broker.Server.Groups;

/// <summary>
/// A KIP-848 consumer group's rules (Kafka's ConsumerGroupHeartbeat), without an actor: the coordinator computes the
/// target assignment itself and every member reconciles towards it by heartbeats alone, with no join/sync barrier.
/// Held by <see cref="GroupCoordinator"/>, which keeps a group either classic or consumer, as Kafka does.
///
/// Epochs, as in Kafka: the group epoch moves when membership, a subscription or a subscribed topic's partition count
/// changes; the coordinator then recomputes the target assignment at once (assignment epoch = group epoch). A member's
/// epoch moves to the assignment epoch when it reconciles. Revoke before assign: a member first keeps only what stays
/// its own (the rest is pending revocation, its epoch unchanged); it may get a partition only once no other member holds
/// it, that is once the previous owner's heartbeat no longer lists it among its owned partitions (or it left or expired).
/// Member states (derived, not stored): UnrevokedPartitions (something to give up), UnreleasedPartitions (waiting for
/// another member to give something up), Stable. A member that does not give up its partitions within its rebalance
/// timeout, or sends nothing for the session timeout, is removed.
///
/// Every change is one <see cref="ConsumerGroupUpdated"/> event (the group's whole state: small, and replay needs no
/// order beyond "last wins"); <see cref="Apply"/> replays it. Sessions are not persisted: after recovery every member
/// gets a fresh one (<see cref="Recovered"/>).
/// </summary>
internal sealed class ConsumerGroup
{
    private readonly string _groupId;
    private readonly ConsumerGroupSettings _settings;
    private readonly Func<long> _now;
    private readonly Dictionary<string, Member> _members = new(StringComparer.Ordinal);
    private Dictionary<string, IReadOnlyList<TopicPartition>> _target = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, int> _partitionCounts = new Dictionary<string, int>(StringComparer.Ordinal);

    public ConsumerGroup(string groupId, ConsumerGroupSettings settings, Func<long> nowMs)
    {
        _groupId = groupId;
        _settings = settings;
        _now = nowMs;
    }

    public int GroupEpoch { get; private set; }

    public int AssignmentEpoch { get; private set; }

    /// <summary>The assignor of the current target assignment.</summary>
    public string Assignor { get; private set; } = "";

    public int MemberCount => _members.Count;

    /// <summary>The group has been a consumer group (it has an epoch), with or without members now.</summary>
    public bool Exists => GroupEpoch > 0;

    /// <summary>Kafka's consumer group states: Empty, Reconciling (some member is not at the assignment epoch yet), Stable.</summary>
    public string State
    {
        get
        {
            if (_members.Count == 0) return "Empty";
            foreach (var m in _members.Values)
            {
                if (m.MemberEpoch != AssignmentEpoch || m.PendingRevocation.Count > 0 || !SameSet(m.Assigned, TargetOf(m.MemberId))) return "Reconciling";
            }
            return "Stable";
        }
    }

    private sealed class Member(string memberId)
    {
        public string MemberId { get; } = memberId;
        public string ClientId { get; set; } = "";
        public int RebalanceTimeoutMs { get; set; }
        public IReadOnlyList<string> Topics { get; set; } = [];
        public string? ServerAssignor { get; set; }
        public int MemberEpoch { get; set; }
        public int PreviousMemberEpoch { get; set; }
        public List<TopicPartition> Assigned { get; set; } = [];
        public List<TopicPartition> PendingRevocation { get; set; } = [];
        public long SessionDeadline { get; set; }
        public long RevocationDeadline { get; set; }
    }

    // ---- heartbeat ----

    /// <summary>One heartbeat: join (epoch 0), leave (-1, -2) or carry on; an event when anything persisted changed.</summary>
    public ConsumerGroupHeartbeatResponse Heartbeat(ConsumerGroupHeartbeatRequest request, List<ConsumerGroupUpdated> events)
    {
        var now = _now();
        if (request.ServerAssignor is { Length: > 0 } wanted && FindAssignor(wanted) is null)
            return Refuse(request, ErrorCode.UnsupportedAssignor, $"assignor '{wanted}' is not offered; this broker offers {string.Join(", ", _settings.Assignors)} (broker.groups.consumer.assignors)");

        if (request.MemberEpoch < 0)
        {
            if (!_members.Remove(request.MemberId))
                return Refuse(request, ErrorCode.UnknownMemberId, $"member {request.MemberId} is not in group {_groupId}");
            Rebalance();
            events.Add(ToEvent());
            return new ConsumerGroupHeartbeatResponse(ErrorCode.None, null, request.MemberId, request.MemberEpoch, HeartbeatIntervalMs, null);
        }

        Member member;
        var changed = false;
        var bump = false;
        if (request.MemberEpoch == 0)
        {
            if (request.SubscribedTopics is null)
                return Refuse(request, ErrorCode.InvalidRequest, "a joining member (epoch 0) must send its subscribed topic names");
            var memberId = string.IsNullOrEmpty(request.MemberId) ? Guid.NewGuid().ToString() : request.MemberId;
            // A known member joining again (after being fenced, or a lost reply) starts over: what it held is released.
            member = new Member(memberId) { ClientId = request.ClientId };
            _members[memberId] = member;
            changed = bump = true;
        }
        else
        {
            if (!_members.TryGetValue(request.MemberId, out member!))
                return Refuse(request, ErrorCode.UnknownMemberId, $"member {request.MemberId} is not in group {_groupId} (its session may have expired); rejoin with epoch 0");
            if (request.MemberEpoch != member.MemberEpoch && !LostReply(member, request))
            {
                return Refuse(request, ErrorCode.FencedMemberEpoch,
                    $"epoch {request.MemberEpoch} is not member {member.MemberId}'s epoch {member.MemberEpoch} in group {_groupId}; rejoin with epoch 0");
            }
        }

        member.SessionDeadline = now + (long)_settings.SessionTimeout.TotalMilliseconds;
        if (request.SubscribedTopics is { } topics && !SameSet(topics, member.Topics))
        {
            member.Topics = [.. new SortedSet<string>(topics, StringComparer.Ordinal)];
            changed = bump = true;
        }
        if (request.ServerAssignor is { Length: > 0 } assignor && assignor != member.ServerAssignor)
        {
            member.ServerAssignor = assignor;
            changed = bump = true;
        }
        if (request.RebalanceTimeoutMs > 0 && request.RebalanceTimeoutMs != member.RebalanceTimeoutMs)
        {
            member.RebalanceTimeoutMs = request.RebalanceTimeoutMs;
            changed = true;
        }
        if (bump) Rebalance();

        var before = member.Assigned;
        changed |= Reconcile(member, request.OwnedPartitions, now);
        if (changed) events.Add(ToEvent());

        var full = request.RebalanceTimeoutMs > 0 && request.SubscribedTopics is not null && request.OwnedPartitions is not null;
        var send = request.MemberEpoch == 0 || full || !ReferenceEquals(before, member.Assigned) && !SameSet(before, member.Assigned);
        return new ConsumerGroupHeartbeatResponse(ErrorCode.None, null, member.MemberId, member.MemberEpoch, HeartbeatIntervalMs, send ? Sorted(member.Assigned) : null);
    }

    private int HeartbeatIntervalMs => (int)_settings.HeartbeatInterval.TotalMilliseconds;

    private static ConsumerGroupHeartbeatResponse Refuse(ConsumerGroupHeartbeatRequest request, ErrorCode error, string message) =>
        new(error, message, request.MemberId, request.MemberEpoch, 0, null);

    /// <summary>
    /// Kafka accepts the previous epoch when the member owns nothing beyond what it is assigned now: the reply that
    /// moved it on was lost, and it asks again from where it was.
    /// </summary>
    private static bool LostReply(Member member, ConsumerGroupHeartbeatRequest request)
    {
        if (request.MemberEpoch != member.PreviousMemberEpoch || request.OwnedPartitions is not { } owned) return false;
        foreach (var p in owned)
        {
            if (!member.Assigned.Contains(p)) return false;
        }
        return true;
    }

    /// <summary>
    /// Moves the member towards its target (Kafka's CurrentAssignmentBuilder): first it gives up what is no longer
    /// its own, acknowledged by a heartbeat whose owned partitions no longer list it; then it takes what no other
    /// member holds. Returns whether the member's persisted state changed.
    /// </summary>
    private bool Reconcile(Member member, IReadOnlyList<TopicPartition>? owned, long now)
    {
        if (member.PendingRevocation.Count > 0)
        {
            if (owned is null || Intersects(owned, member.PendingRevocation)) return false;
            member.PendingRevocation = [];
            member.RevocationDeadline = 0;
        }
        var target = TargetOf(member.MemberId);
        if (member.MemberEpoch == AssignmentEpoch && SameSet(member.Assigned, target)) return false;

        var keep = new List<TopicPartition>();
        var revoke = new List<TopicPartition>();
        foreach (var p in member.Assigned) (target.Contains(p) ? keep : revoke).Add(p);
        if (revoke.Count > 0)
        {
            member.Assigned = keep;
            member.PendingRevocation = revoke;
            member.RevocationDeadline = now + Math.Max(member.RebalanceTimeoutMs, (int)_settings.SessionTimeout.TotalMilliseconds);
            return true;
        }
        var held = HeldByOthers(member.MemberId);
        foreach (var p in target)
        {
            if (!keep.Contains(p) && !held.Contains(p)) keep.Add(p);
        }
        var epochChanged = member.MemberEpoch != AssignmentEpoch;
        if (epochChanged)
        {
            member.PreviousMemberEpoch = member.MemberEpoch;
            member.MemberEpoch = AssignmentEpoch;
        }
        if (!epochChanged && SameSet(keep, member.Assigned)) return false;
        member.Assigned = keep;
        return true;
    }

    /// <summary>Partitions another member still holds (assigned, or not yet revoked): nobody else may be given them.</summary>
    private HashSet<TopicPartition> HeldByOthers(string memberId)
    {
        var held = new HashSet<TopicPartition>();
        foreach (var m in _members.Values)
        {
            if (m.MemberId == memberId) continue;
            foreach (var p in m.Assigned) held.Add(p);
            foreach (var p in m.PendingRevocation) held.Add(p);
        }
        return held;
    }

    /// <summary>A new group epoch and at once its target assignment (the coordinator is the assignor).</summary>
    private void Rebalance()
    {
        GroupEpoch++;
        ComputeTarget();
    }

    private void ComputeTarget()
    {
        var name = ChooseAssignor();
        var assignor = FindAssignor(name) ?? new StickyAssignor();
        var members = new List<AssignmentMember>(_members.Count);
        foreach (var m in _members.Values) members.Add(new AssignmentMember(m.MemberId, m.Topics, TargetOf(m.MemberId)));
        var result = members.Count == 0 ? new Dictionary<string, IReadOnlyList<TopicPartition>>() : assignor.Assign(members, _partitionCounts);
        _target = new Dictionary<string, IReadOnlyList<TopicPartition>>(result, StringComparer.Ordinal);
        Assignor = name;
        AssignmentEpoch = GroupEpoch;
    }

    /// <summary>The assignor most members ask for (ties: the configured order); the first configured when none asks.</summary>
    private string ChooseAssignor()
    {
        var best = _settings.Assignors.Count > 0 ? _settings.Assignors[0] : "uniform";
        var bestVotes = 0;
        foreach (var candidate in _settings.Assignors)
        {
            var votes = 0;
            foreach (var m in _members.Values)
            {
                if (string.Equals(m.ServerAssignor, candidate, StringComparison.OrdinalIgnoreCase)) votes++;
            }
            if (votes > bestVotes)
            {
                best = candidate;
                bestVotes = votes;
            }
        }
        return best;
    }

    /// <summary>uniform is Kafka's UniformAssignor (balanced, then sticky: <see cref="StickyAssignor"/>); range is Kafka's range.</summary>
    private IPartitionAssignor? FindAssignor(string name)
    {
        var offered = false;
        foreach (var a in _settings.Assignors) offered |= string.Equals(a, name, StringComparison.OrdinalIgnoreCase);
        if (!offered) return null;
        return name.ToLowerInvariant() switch
        {
            "uniform" => new StickyAssignor(),
            "range" => new RangeAssignor(),
            _ => null,
        };
    }

    private IReadOnlyList<TopicPartition> TargetOf(string memberId) => _target.TryGetValue(memberId, out var t) ? t : [];

    // ---- time and topics ----

    /// <summary>Removes members whose session expired or who kept partitions past their rebalance timeout.</summary>
    public void Tick(List<ConsumerGroupUpdated> events)
    {
        var now = _now();
        List<string>? gone = null;
        foreach (var m in _members.Values)
        {
            if (now > m.SessionDeadline || (m.RevocationDeadline > 0 && now > m.RevocationDeadline)) (gone ??= []).Add(m.MemberId);
        }
        if (gone is null) return;
        foreach (var id in gone) _members.Remove(id);
        Rebalance();
        events.Add(ToEvent());
    }

    /// <summary>
    /// A subscribed topic gained partitions or came into existence: a new group epoch and target. Compared with what
    /// the target assigns (every partition of a subscribed topic has an owner), so a coordinator that has just read the
    /// group back does not rebalance for nothing.
    /// </summary>
    public void TopicsChanged(IReadOnlyDictionary<string, int> partitionCounts, List<ConsumerGroupUpdated> events)
    {
        _partitionCounts = partitionCounts;
        if (_members.Count == 0) return;
        var targeted = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var partitions in _target.Values)
            foreach (var p in partitions) targeted[p.Topic] = targeted.GetValueOrDefault(p.Topic) + 1;
        var subscribed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in _members.Values) subscribed.UnionWith(m.Topics);
        foreach (var topic in subscribed)
        {
            if (targeted.GetValueOrDefault(topic) == partitionCounts.GetValueOrDefault(topic)) continue;
            Rebalance();
            events.Add(ToEvent());
            return;
        }
    }

    /// <summary>After recovery: every member gets a fresh session; members of a dead node's clients expire as usual.</summary>
    public void Recovered()
    {
        var now = _now();
        foreach (var m in _members.Values)
        {
            m.SessionDeadline = now + (long)_settings.SessionTimeout.TotalMilliseconds;
            if (m.PendingRevocation.Count > 0) m.RevocationDeadline = now + Math.Max(m.RebalanceTimeoutMs, (int)_settings.SessionTimeout.TotalMilliseconds);
        }
    }

    // ---- offsets ----

    /// <summary>
    /// Kafka's rule for a consumer group's commit: without a member (epoch &lt; 0) only while the group has no members;
    /// otherwise the member must exist and send its current epoch (newer: FENCED_MEMBER_EPOCH, older: STALE_MEMBER_EPOCH).
    /// </summary>
    public (ErrorCode Error, string Message)? CheckCommit(string? memberId, int memberEpoch)
    {
        if (memberEpoch < 0 && _members.Count == 0) return null;
        if (!_members.TryGetValue(memberId ?? "", out var member))
            return (ErrorCode.UnknownMemberId, $"member {memberId} is not in consumer group {_groupId}");
        if (memberEpoch > member.MemberEpoch)
            return (ErrorCode.FencedMemberEpoch, $"epoch {memberEpoch} is newer than member {memberId}'s epoch {member.MemberEpoch}");
        if (memberEpoch < member.MemberEpoch)
            return (ErrorCode.StaleMemberEpoch, $"epoch {memberEpoch} is older than member {memberId}'s epoch {member.MemberEpoch}; commit again after the next heartbeat");
        return null;
    }

    /// <summary>Every partition a member holds (assigned or still being revoked).</summary>
    public void AddHeld(HashSet<TopicPartition> into)
    {
        foreach (var m in _members.Values)
        {
            into.UnionWith(m.Assigned);
            into.UnionWith(m.PendingRevocation);
        }
    }

    // ---- describe ----

    public DescribeConsumerGroupResponse Describe()
    {
        var members = new List<ConsumerGroupMemberDescription>(_members.Count);
        foreach (var m in SortedMembers())
            members.Add(new ConsumerGroupMemberDescription(m.MemberId, m.ClientId, m.MemberEpoch, m.Topics, Sorted(m.Assigned), Sorted(TargetOf(m.MemberId))));
        return new DescribeConsumerGroupResponse(ErrorCode.None, null, _groupId, State, GroupEpoch, AssignmentEpoch, Assignor, members);
    }

    /// <summary>Members and what each holds now, for the classic describe (CLI, cluster watcher).</summary>
    public List<GroupMemberDescription> DescribeMembers()
    {
        var members = new List<GroupMemberDescription>(_members.Count);
        foreach (var m in SortedMembers()) members.Add(new GroupMemberDescription(m.MemberId, m.ClientId, Sorted(m.Assigned)));
        return members;
    }

    // ---- persistence ----

    public ConsumerGroupUpdated ToEvent()
    {
        var members = new List<ConsumerMemberState>(_members.Count);
        foreach (var m in SortedMembers())
        {
            members.Add(new ConsumerMemberState(m.MemberId, m.ClientId, m.RebalanceTimeoutMs, m.ServerAssignor ?? "", m.Topics, m.MemberEpoch,
                m.PreviousMemberEpoch, Sorted(m.Assigned), Sorted(m.PendingRevocation), Sorted(TargetOf(m.MemberId))));
        }
        return new ConsumerGroupUpdated(GroupEpoch, AssignmentEpoch, Assignor, members);
    }

    /// <summary>Replays an event: the group becomes exactly what it says.</summary>
    public void Apply(ConsumerGroupUpdated e)
    {
        GroupEpoch = e.GroupEpoch;
        AssignmentEpoch = e.AssignmentEpoch;
        Assignor = e.Assignor;
        _members.Clear();
        _target = new(StringComparer.Ordinal);
        foreach (var s in e.Members)
        {
            _members[s.MemberId] = new Member(s.MemberId)
            {
                ClientId = s.ClientId,
                RebalanceTimeoutMs = s.RebalanceTimeoutMs,
                ServerAssignor = s.ServerAssignor.Length > 0 ? s.ServerAssignor : null,
                Topics = s.Topics,
                MemberEpoch = s.MemberEpoch,
                PreviousMemberEpoch = s.PreviousMemberEpoch,
                Assigned = [.. s.Assigned],
                PendingRevocation = [.. s.PendingRevocation],
            };
            _target[s.MemberId] = s.Target;
        }
    }

    /// <summary>The group was deleted: nothing of it remains.</summary>
    public void Clear()
    {
        GroupEpoch = 0;
        AssignmentEpoch = 0;
        Assignor = "";
        _members.Clear();
        _target = new(StringComparer.Ordinal);
    }

    // ---- helpers ----

    private List<Member> SortedMembers()
    {
        var list = new List<Member>(_members.Values);
        list.Sort(static (a, b) => string.CompareOrdinal(a.MemberId, b.MemberId));
        return list;
    }

    private static List<TopicPartition> Sorted(IReadOnlyList<TopicPartition> partitions)
    {
        var list = new List<TopicPartition>(partitions);
        list.Sort(static (a, b) => a.Topic == b.Topic ? a.Partition.CompareTo(b.Partition) : string.CompareOrdinal(a.Topic, b.Topic));
        return list;
    }

    private static bool SameSet<T>(IReadOnlyList<T> a, IReadOnlyList<T> b)
    {
        if (a.Count != b.Count) return false;
        var set = new HashSet<T>(a);
        foreach (var x in b)
        {
            if (!set.Contains(x)) return false;
        }
        return true;
    }

    private static bool Intersects(IReadOnlyList<TopicPartition> a, IReadOnlyList<TopicPartition> b)
    {
        foreach (var x in a)
        {
            if (b.Contains(x)) return true;
        }
        return false;
    }
}
