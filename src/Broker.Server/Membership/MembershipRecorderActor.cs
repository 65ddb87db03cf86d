using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Broker.Server.Membership;

/// <summary>
/// Keeps <see cref="KnownMembers"/> up to date: whenever the set of Up (or leaving) members changes while this node
/// is itself Up, it writes their ids and addresses. Never while this node is only Joining: a node waiting for a
/// majority must not shrink its own record of the cluster to the members that happen to be around. On a metadata
/// quorum the voters are the cluster, so a voter that is not a member right now (killed, or downed and restarting)
/// stays in the record at its last address: a node that restarts needs every address to find (or, with
/// <see cref="ClusterFormationActor"/>, form) the cluster, even while its configured seed is dead.
/// </summary>
public sealed class MembershipRecorderActor : ReceiveActor
{
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _dataDirectory;
    private readonly IReadOnlySet<int>? _voterIds;
    private IReadOnlyList<KnownMember> _recorded;

    public MembershipRecorderActor(string dataDirectory, IReadOnlySet<int>? voterIds)
    {
        _dataDirectory = dataDirectory;
        _voterIds = voterIds;
        _recorded = KnownMembers.Load(dataDirectory);
        ReceiveAny(_ => Record());
    }

    /// <summary>Records into <paramref name="dataDirectory"/>; <paramref name="voterIds"/> are the metadata quorum's voters (kept while absent), or null without a quorum.</summary>
    public static Props Props(string dataDirectory, IReadOnlySet<int>? voterIds) => Akka.Actor.Props.Create(() => new MembershipRecorderActor(dataDirectory, voterIds));

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void Record()
    {
        if (_cluster.SelfMember.Status != MemberStatus.Up) return;
        var members = new List<KnownMember>();
        foreach (var member in _cluster.State.Members)
        {
            if (member.Status is not (MemberStatus.Up or MemberStatus.Leaving or MemberStatus.Exiting or MemberStatus.WeaklyUp)) continue;
            var id = NodeIdentity.Of(member);
            if (id > 0) members.Add(new KnownMember(id, $"{member.Address.Host}:{member.Address.Port}"));
        }
        if (_voterIds is not null)
        {
            foreach (var absent in _recorded)
                if (_voterIds.Contains(absent.NodeId) && !members.Exists(m => m.NodeId == absent.NodeId)) members.Add(absent);
        }
        members.Sort((a, b) => a.NodeId.CompareTo(b.NodeId));
        if (members.SequenceEqual(_recorded)) return;
        KnownMembers.Save(_dataDirectory, members);
        _log.Info("cluster members recorded in {0}: {1}; a restart of this node waits for {2} of them", KnownMembers.PathIn(_dataDirectory),
            string.Join(", ", members.Select(m => $"node {m.NodeId} at {m.Address}")), KnownMembers.Quorum(members.Count));
        _recorded = members;
    }
}
