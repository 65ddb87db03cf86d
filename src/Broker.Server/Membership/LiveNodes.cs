using Akka.Actor;
using Akka.Cluster;

namespace Broker.Server.Membership;

/// <summary>
/// Which broker ids are alive right now and where they are: members that are Up (or WeaklyUp) and
/// reachable from here. Built from a cluster state snapshot; cheap enough to build per decision.
/// </summary>
public sealed class LiveNodes
{
    private readonly Dictionary<int, Address> _byId = new();
    private readonly Dictionary<Address, int> _byAddress = new();
    private readonly Dictionary<int, string> _racks = new();

    public LiveNodes(ClusterEvent.CurrentClusterState state)
    {
        foreach (var member in state.Members)
        {
            if (member.Status is not (MemberStatus.Up or MemberStatus.WeaklyUp) || state.Unreachable.Contains(member)) continue;
            var id = NodeIdentity.Of(member);
            if (id < 0) continue;
            _byId[id] = member.Address;
            _byAddress[member.Address] = id;
            _racks[id] = NodeIdentity.RackOf(member);
        }
    }

    public static LiveNodes Of(ActorSystem system) => new(Cluster.Get(system).State);

    public int Count => _byId.Count;

    public IEnumerable<int> Ids => _byId.Keys;

    public bool IsAlive(int nodeId) => _byId.ContainsKey(nodeId);

    public Address? AddressOf(int nodeId) => _byId.TryGetValue(nodeId, out var a) ? a : null;

    /// <summary>The rack of a live node, or "" (none, or not alive).</summary>
    public string RackOf(int nodeId) => _racks.TryGetValue(nodeId, out var rack) ? rack : "";

    /// <summary>The node id at <paramref name="address"/>, or -1 if no live node is there.</summary>
    public int IdAt(Address address) => _byAddress.TryGetValue(address, out var id) ? id : -1;
}
