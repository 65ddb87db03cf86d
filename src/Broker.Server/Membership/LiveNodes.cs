using Akka.Actor;
using Akka.Cluster;

namespace Broker.Server.Membership;

/// <summary>
/// Which broker ids are alive right now and where they are: members that are Up (or WeaklyUp) and
/// reachable from here. Built from a cluster state snapshot; cheap enough to build per decision. Also whether this
/// node's side is the one the split-brain resolver keeps (<see cref="SeesMajority"/>): a node that sees most of its
/// cluster unreachable is more likely the one cut off, or just woken from a pause, than the last one standing.
/// </summary>
public sealed class LiveNodes
{
    private readonly Dictionary<int, Address> _byId = new();
    private readonly Dictionary<Address, int> _byAddress = new();
    private readonly Dictionary<int, string> _racks = new();

    public LiveNodes(ClusterEvent.CurrentClusterState state)
    {
        Address? lowest = null;
        foreach (var member in state.Members)
        {
            if (member.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving or MemberStatus.Exiting)
            {
                MemberCount++;
                if (lowest is null || Member.AddressOrdering.Compare(member.Address, lowest) < 0) lowest = member.Address;
            }
            if (member.Status is not (MemberStatus.Up or MemberStatus.WeaklyUp) || state.Unreachable.Contains(member)) continue;
            var id = NodeIdentity.Of(member);
            if (id < 0) continue;
            _byId[id] = member.Address;
            _byAddress[member.Address] = id;
            _racks[id] = NodeIdentity.RackOf(member);
        }
        SeesMajority = MajorityRule.IsKept(_byId.Count, MemberCount, lowest is not null && _byAddress.ContainsKey(lowest));
    }

    public static LiveNodes Of(ActorSystem system) => new(Cluster.Get(system).State);

    /// <summary>The member at <paramref name="address"/> in a cluster state (any status), or null if none is there.</summary>
    public static Member? MemberAt(ClusterEvent.CurrentClusterState state, Address address)
    {
        foreach (var member in state.Members)
            if (member.Address.Equals(address)) return member;
        return null;
    }

    public int Count => _byId.Count;

    /// <summary>Members that count for the split-brain resolver: Up, WeaklyUp, Leaving or Exiting (not Joining, Down or Removed).</summary>
    public int MemberCount { get; }

    /// <summary>
    /// Whether the members alive from here are the side keep-majority keeps (<see cref="MajorityRule"/>). When not,
    /// this node's view of who is down is not to be acted on: it does not drop unreachable followers from an ISR and
    /// does not stand for election (it would only make itself the sole in-sync replica of a partition nobody can reach).
    /// </summary>
    public bool SeesMajority { get; }

    /// <summary>"2 of 3 members reachable", for log lines and refusals.</summary>
    public string Describe() => $"{Count} of {MemberCount} members reachable";

    public IEnumerable<int> Ids => _byId.Keys;

    public bool IsAlive(int nodeId) => _byId.ContainsKey(nodeId);

    public Address? AddressOf(int nodeId) => _byId.TryGetValue(nodeId, out var a) ? a : null;

    /// <summary>The rack of a live node, or "" (none, or not alive).</summary>
    public string RackOf(int nodeId) => _racks.TryGetValue(nodeId, out var rack) ? rack : "";

    /// <summary>The node id at <paramref name="address"/>, or -1 if no live node is there.</summary>
    public int IdAt(Address address) => _byAddress.TryGetValue(address, out var id) ? id : -1;
}
