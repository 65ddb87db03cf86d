using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Broker.Server.Controller.Quorum;
using Broker.Server.Membership;
using Broker.Server.Tests.Controller.Quorum;
using Xunit;

namespace Broker.Server.Tests.Membership;

/// <summary>
/// <see cref="QuorumDowningProvider"/> as the downing provider of three real members in this process: a member whose
/// process vanished is downed by the node that leads the quorum, and a node that cannot reach a majority of the
/// voters while a member is unreachable downs itself. Only the node under test has the quorum registered, so the
/// others decide nothing.
/// </summary>
public sealed class QuorumDowningActorTests : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly List<ActorSystem> _systems = [];
    private QuorumTestCluster? _quorum;

    public async ValueTask DisposeAsync()
    {
        foreach (var system in _systems) await system.Terminate();
        if (_quorum is not null) await _quorum.DisposeAsync();
    }

    private ActorSystem Member(int nodeId)
    {
        var system = InProcessMembers.Start("downing", nodeId, $$"""
            akka.cluster.downing-provider-class = "{{QuorumDowningProvider.ClassName}}"
            broker.metadata.quorum.downing { stable-after = 1s, minority-after = 2s }
            akka.cluster.failure-detector { heartbeat-interval = 500ms, acceptable-heartbeat-pause = 1s }
            # A terminated system vanishes as a killed process does: it does not leave the cluster first.
            akka.coordinated-shutdown.run-by-actor-system-terminate = off
            """);
        _systems.Add(system);
        return system;
    }

    private async Task<(ActorSystem A, ActorSystem B, ActorSystem C)> ThreeMembersAsync()
    {
        var a = Member(1);
        var b = Member(2);
        var c = Member(3);
        var first = Cluster.Get(a).SelfAddress;
        foreach (var system in new[] { a, b, c }) Cluster.Get(system).Join(first);
        await InProcessMembers.UpAsync(a, 3);
        return (a, b, c);
    }

    [Fact]
    public async Task The_controller_downs_a_member_whose_process_vanished()
    {
        _quorum = new QuorumTestCluster(voters: 1);
        await _quorum.StartAsync(1);
        await _quorum.LeaderAsync(Deadline);
        var (a, _, c) = await ThreeMembersAsync();
        QuorumExtension.Register(a, _quorum[1]);
        var warnings = new Akka.TestKit.TestProbe(a, new Akka.TestKit.Xunit2.XunitAssertions());
        a.EventStream.Subscribe(warnings.Ref, typeof(Warning));

        var gone = Cluster.Get(c).SelfUniqueAddress;
        await c.Terminate();

        await global::Broker.Tests.Eventually.TrueAsync(
            () => Task.FromResult(Cluster.Get(a).State.Members.All(m => !m.UniqueAddress.Equals(gone) || m.Status == MemberStatus.Down)),
            Deadline, "the vanished member downed (and removed)");
        warnings.FishForMessage<Warning>(w => w.Message.ToString()!.Contains("downing it as the metadata quorum's controller"), Deadline);
        Assert.Equal(2, Cluster.Get(a).State.Members.Count(m => m.Status == MemberStatus.Up));
    }

    [Fact]
    public async Task A_node_without_a_majority_of_the_voters_downs_itself_when_a_member_is_unreachable()
    {
        _quorum = new QuorumTestCluster(voters: 3);
        await _quorum.StartAsync(3); // one voter of three: it can never pass a read barrier
        var (a, b, c) = await ThreeMembersAsync();
        QuorumExtension.Register(b, _quorum[3]);

        await c.Terminate();

        await b.WhenTerminated.WaitAsync(Deadline); // throws TimeoutException if b never downed itself
        Assert.False(a.WhenTerminated.IsCompleted, "a node without the quorum registered decides nothing");
    }
}
