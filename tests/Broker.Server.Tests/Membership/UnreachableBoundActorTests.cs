using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Broker.Server.Membership;
using Broker.Server.Tests.Controller.Quorum;
using Xunit;

namespace Broker.Server.Tests.Membership;

/// <summary>
/// <see cref="UnreachableBoundActor"/> in a real three-member cluster in this process whose split-brain resolver never
/// decides (stable-after of an hour stands for membership that keeps changing): a member whose process vanished
/// stays unreachable for ever unless the quorum's controller downs it.
/// </summary>
public sealed class UnreachableBoundActorTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly QuorumTestCluster _quorum = new(voters: 1);
    private readonly List<ActorSystem> _systems = [];

    public Task InitializeAsync() => _quorum.StartAsync(1);

    public async Task DisposeAsync()
    {
        foreach (var system in _systems) await system.Terminate();
        await _quorum.DisposeAsync();
    }

    private ActorSystem Member(int nodeId)
    {
        var system = InProcessMembers.Start("bound", nodeId, """
            akka.cluster.downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
            akka.cluster.split-brain-resolver { active-strategy = keep-majority, stable-after = 1h }
            akka.cluster.failure-detector { heartbeat-interval = 500ms, acceptable-heartbeat-pause = 1s }
            # A terminated system vanishes as a killed process does: it does not leave the cluster first.
            akka.coordinated-shutdown.run-by-actor-system-terminate = off
            """);
        _systems.Add(system);
        return system;
    }

    [Fact]
    public async Task The_controller_downs_a_member_that_stays_unreachable_while_the_resolver_waits()
    {
        var a = Member(1);
        var b = Member(2);
        var c = Member(3);
        var first = Cluster.Get(a).SelfAddress;
        foreach (var system in new[] { a, b, c }) Cluster.Get(system).Join(first);
        await InProcessMembers.UpAsync(a, 3);
        await _quorum.LeaderAsync(Deadline);

        var warnings = new Akka.TestKit.TestProbe(a, new Akka.TestKit.Xunit2.XunitAssertions());
        a.EventStream.Subscribe(warnings.Ref, typeof(Warning));
        a.ActorOf(UnreachableBoundActor.Props(new UnreachableBound(TimeSpan.FromSeconds(1), TimeProvider.System), _quorum[1]), UnreachableBoundActor.Name);

        var gone = Cluster.Get(c).SelfUniqueAddress;
        await c.Terminate();

        await Broker.Tests.Eventually.TrueAsync(
            () => Task.FromResult(Cluster.Get(a).State.Members.All(m => !m.UniqueAddress.Equals(gone) || m.Status == MemberStatus.Down)),
            Deadline, "the vanished member downed (and removed)");
        warnings.FishForMessage<Warning>(w => w.Message.ToString()!.Contains("downing it as the metadata quorum's controller"), Deadline);
        Assert.Equal(2, Cluster.Get(a).State.Members.Count(m => m.Status == MemberStatus.Up));
    }
}
