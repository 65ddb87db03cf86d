using Akka.Actor;
using Akka.Cluster;
using Broker.Server.Controller;
using Broker.Server.Controller.Quorum;
using Broker.Server.Tests.Membership;
using Xunit;

namespace Broker.Server.Tests.Controller.Quorum;

/// <summary>
/// <see cref="NewVoterActor"/> with three real Raft voters formatted as nodes format new data directories (none votes)
/// and three ActorSystems in this process forming one Akka cluster: the voters join once each has heard from every
/// other that no log exists, and not while one of them has not answered.
/// </summary>
public sealed class NewVoterActorTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = InProcessMembers.Deadline;
    private readonly QuorumTestCluster _quorum = new(voters: 3, catchingUp: true);
    private readonly List<ActorSystem> _systems = [];

    public Task InitializeAsync() => _quorum.StartAsync(1, 2, 3);

    public async Task DisposeAsync()
    {
        foreach (var system in _systems) await system.Terminate();
        await _quorum.DisposeAsync();
    }

    private ActorSystem Node(int nodeId, Address? seed)
    {
        var system = InProcessMembers.Start("new-voters", nodeId);
        _systems.Add(system);
        system.ActorOf(MetadataServerActor.Props(_quorum[nodeId], TimeSpan.FromSeconds(5)), MetadataServerActor.Name);
        system.ActorOf(NewVoterActor.Props(_quorum[nodeId]), NewVoterActor.Name);
        Cluster.Get(system).Join(seed ?? Cluster.Get(system).SelfAddress);
        return system;
    }

    [Fact]
    public async Task Voters_of_a_new_cluster_join_once_all_have_answered_and_not_before()
    {
        var one = Node(1, seed: null);
        Node(2, Cluster.Get(one).SelfAddress);
        await InProcessMembers.UpAsync(one, 2);

        // Two of three answer with empty logs: a majority, but the third might hold the log (two wiped voters).
        var watched = TimeSpan.FromSeconds(4); // four of the actors' rounds
        using (var cts = new CancellationTokenSource(watched))
        {
            while (!cts.IsCancellationRequested)
            {
                Assert.True(_quorum[1].IsCatchingUp && _quorum[2].IsCatchingUp, "a voter joined before every voter had answered");
                await Task.Delay(200, CancellationToken.None);
            }
        }
        Assert.Null(_quorum[1].ControllerId);

        Node(3, Cluster.Get(one).SelfAddress);
        await global::Broker.Tests.Eventually.TrueAsync(() => Task.FromResult(_quorum.Running.All(q => !q.IsCatchingUp)), Deadline, "every voter joined");
        var leader = await _quorum.LeaderAsync(Deadline);
        Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, new RegisterBroker(1, Guid.NewGuid(), -1)));
        Assert.All(_quorum.Settings, s => Assert.False(QuorumDirectory.IsCatchingUp(s.Directory)));
    }
}
