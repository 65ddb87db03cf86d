using Akka.Actor;
using Akka.Cluster;
using Broker.Server.Controller.Quorum;
using Broker.Server.Membership;
using Broker.Server.Tests.Controller.Quorum;
using Xunit;

namespace Broker.Server.Tests.Membership;

/// <summary>
/// <see cref="IslandCheckActor"/> with three real Raft voters and three ActorSystems in this process that formed two
/// Akka clusters: node 1 alone (it never leads the quorum), nodes 2 and 3 together, one of them the controller. Node 1
/// is the island: it must down itself; nodes 2 and 3, counted by the controller, must stay.
/// </summary>
public sealed class IslandCheckActorTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = InProcessMembers.Deadline;
    private readonly QuorumTestCluster _quorum = new(voters: 3);
    private readonly List<ActorSystem> _systems = [];

    public Task InitializeAsync()
    {
        _quorum.Settings[0] = _quorum.Settings[0] with { NeverLeads = true };
        return _quorum.StartAsync(1, 2, 3);
    }

    public async Task DisposeAsync()
    {
        foreach (var system in _systems) await system.Terminate();
        await _quorum.DisposeAsync();
    }

    private ActorSystem Node(int nodeId)
    {
        var system = InProcessMembers.Start("island", nodeId);
        _systems.Add(system);
        system.ActorOf(MetadataServerActor.Props(_quorum[nodeId], TimeSpan.FromSeconds(5)), MetadataServerActor.Name);
        return system;
    }

    private static Task UpAsync(ActorSystem system, int members) => InProcessMembers.UpAsync(system, members);

    [Fact]
    public async Task A_node_whose_cluster_the_controller_does_not_know_leaves_it_and_the_counted_ones_stay()
    {
        var island = Node(1);
        var two = Node(2);
        var three = Node(3);
        Cluster.Get(island).Join(Cluster.Get(island).SelfAddress);
        Cluster.Get(two).Join(Cluster.Get(two).SelfAddress);
        Cluster.Get(three).Join(Cluster.Get(two).SelfAddress);
        await UpAsync(island, 1);
        await UpAsync(two, 2);
        await _quorum.LeaderAsync(Deadline);

        // The counted nodes would leave sooner than the island if the check wrongly failed them.
        two.ActorOf(IslandCheckActor.Props(new IslandCheck(TimeSpan.FromSeconds(1), TimeProvider.System), _quorum[2]), IslandCheckActor.Name);
        three.ActorOf(IslandCheckActor.Props(new IslandCheck(TimeSpan.FromSeconds(1), TimeProvider.System), _quorum[3]), IslandCheckActor.Name);
        island.ActorOf(IslandCheckActor.Props(new IslandCheck(TimeSpan.FromSeconds(3), TimeProvider.System), _quorum[1]), IslandCheckActor.Name);

        // Downed by itself, the island's ActorSystem shuts down (a broker node then starts a new incarnation).
        await island.WhenTerminated.WaitAsync(Deadline); // throws TimeoutException if the island never downed itself
        Assert.False(two.WhenTerminated.IsCompleted || three.WhenTerminated.IsCompleted, "a node the controller counts stays");
        Assert.Equal(2, Cluster.Get(two).State.Members.Count(m => m.Status == MemberStatus.Up));
    }
}
