using Broker.Client;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// Issue 18, availability: the configured seed (node 0) dies for good, and then the two other nodes restart (killed,
/// or downed by the cluster and restarting in process, as the nemesis found under load). Akka lets only a node that
/// is its own first seed form a cluster, so the two asked the dead seed, and each other, for ever. On the metadata
/// quorum the controller forms it (<c>FormationRule</c>): the two are a majority of the voters, so they serve again,
/// and nothing acknowledged is lost.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SeedLossTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "seedless";
    private const int Partitions = 3;
    private readonly ThreeNodeCluster _cluster = new();
    private readonly AckChecker _checker = new(Partitions);

    public Task InitializeAsync() => _cluster.StartAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync().AsTask();

    [Fact]
    public async Task The_two_nodes_left_form_the_cluster_again_when_the_configured_seed_is_dead_and_they_restart()
    {
        await _cluster.CreateTopicAsync(Topic, Partitions, 3, minInsyncReplicas: 2);
        await _cluster.WaitForIsrAsync(Topic, 3, TimeSpan.FromSeconds(60));
        using var stop = new CancellationTokenSource();
        var load = Task.Run(() => AckedWriters.RunAsync(_checker, _cluster.BootstrapIn(1, 2), Topic, Acks.All, stop.Token, inFlight: 8));
        await ThreeNodeCluster.Eventually(() => Task.FromResult(_checker.AckCount >= 2_000), TimeSpan.FromSeconds(60), "2,000 acknowledgements");

        _cluster.Kill(0);
        await _cluster.WaitForKilledNodesRemovedAsync();
        var beforeRestart = _checker.AckCount;
        await ThreeNodeCluster.Eventually(() => Task.FromResult(_checker.AckCount >= beforeRestart + 1_000), TimeSpan.FromSeconds(60), "1,000 more acknowledgements on nodes 1 and 2");

        _cluster.Kill(1);
        _cluster.Kill(2);
        var restarted = Environment.TickCount64;
        await _cluster.StartWaitingNodeAsync(1); // both name the dead node 0 as their seed, as the README's commands do
        await _cluster.StartWaitingNodeAsync(2);
        try
        {
            await ThreeNodeCluster.Eventually(async () =>
            {
                await using var admin = new AdminClient(new ClientConfig { BootstrapServers = _cluster.BootstrapIn(1, 2), RequestTimeout = TimeSpan.FromSeconds(5) });
                var status = await admin.GetClusterStatusAsync();
                return status.Brokers.Count(b => b.Status == "Up" && b.NodeId > 0) == 2;
            }, TimeSpan.FromSeconds(90), "nodes 1 and 2 Up in a cluster without the dead seed");
        }
        catch (TimeoutException)
        {
            for (var i = 1; i <= 2; i++)
                foreach (var line in _cluster.Node(i).Output.Split('\n').TakeLast(30)) output.WriteLine($"[{i}] {line[..Math.Min(line.Length, 300)]}");
            throw;
        }
        output.WriteLine($"nodes 1 and 2 formed the cluster {(Environment.TickCount64 - restarted) / 1000.0:0.0} s after they were started again");
        Assert.True(_cluster.Node(1).Output.Contains("joining with the metadata quorum's controller", StringComparison.Ordinal)
            || _cluster.Node(2).Output.Contains("joining with the metadata quorum's controller", StringComparison.Ordinal), "the cluster was formed through the controller");

        var afterRestart = _checker.AckCount;
        await ThreeNodeCluster.Eventually(() => Task.FromResult(_checker.AckCount >= afterRestart + 1_000), TimeSpan.FromSeconds(90), "1,000 acknowledgements after the two formed the cluster");
        await stop.CancelAsync();
        await load;
        var result = await _checker.ReadBackAsync(_cluster.BootstrapIn(1, 2), Topic, TimeSpan.FromSeconds(120));
        output.WriteLine($"configured seed dead, the two others restarted: {result}");
        Assert.Empty(result.Lost);
        Assert.Empty(result.Conflicts);
    }
}
