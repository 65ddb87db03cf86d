using Broker.Client;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// Issue 18, availability: a node frozen (SIGSTOP) long enough for the others to down and remove it finds itself
/// downed when it wakes. It used to exit; now it starts again in the same process as a new incarnation, rejoins,
/// catches up and is back in every ISR, without anyone restarting it.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DownedNodeRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "paused";
    private readonly ThreeNodeCluster _cluster = new();

    public Task InitializeAsync() => _cluster.StartAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync().AsTask();

    [Fact]
    public async Task A_node_the_cluster_downed_during_a_pause_rejoins_by_itself_in_the_same_process()
    {
        await _cluster.CreateTopicAsync(Topic, 3, 3, minInsyncReplicas: 2);
        await _cluster.WaitForIsrAsync(Topic, 3, TimeSpan.FromSeconds(60));
        var paused = 2;
        var pausedId = _cluster.NodeIdOf(paused);
        var node = _cluster.Node(paused);

        node.Pause();
        try
        {
            // Frozen until the other two have downed and removed it: what a long GC pause or a SIGSTOP leads to.
            await ThreeNodeCluster.Eventually(async () =>
            {
                await using var admin = new AdminClient(new ClientConfig { BootstrapServers = _cluster.BootstrapIn(0, 1), RequestTimeout = TimeSpan.FromSeconds(5) });
                var status = await admin.GetClusterStatusAsync();
                return status.Brokers.All(b => b.NodeId != pausedId);
            }, TimeSpan.FromSeconds(60), $"node {pausedId} removed from the cluster while frozen");
        }
        finally
        {
            node.Resume();
        }

        // Woken, the node sees its followers unreachable before it learns it was removed. It must not act on that
        // view: it once shrank the ISR of a partition it led to itself alone, which left that partition offline
        // until it came back. The partitions it led are led by the two others.
        await ThreeNodeCluster.Eventually(async () =>
        {
            await using var admin = new AdminClient(new ClientConfig { BootstrapServers = _cluster.BootstrapIn(0, 1), RequestTimeout = TimeSpan.FromSeconds(5) });
            var described = (await admin.GetMetadataAsync([Topic])).Topics.Single();
            return described.Partitions.All(p => p.LeaderId > 0 && p.LeaderId != pausedId && p.Isr.Any(id => id != pausedId));
        }, TimeSpan.FromSeconds(30), $"every partition led by a node other than the woken node {pausedId}");

        try
        {
            await ThreeNodeCluster.Eventually(() => Task.FromResult(node.Output.Contains("restarting: ")),
                TimeSpan.FromSeconds(90), "the woken node to notice it was removed and restart");
        }
        catch (TimeoutException)
        {
            var lines = node.Output.Split('\n');
            output.WriteLine(string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 40))));
            throw;
        }
        output.WriteLine(node.Output.Split('\n').First(l => l.Contains("restarting: ")));
        await _cluster.WaitForMembersAsync(3, TimeSpan.FromSeconds(90));
        await _cluster.WaitForIsrAsync(Topic, 3, TimeSpan.FromSeconds(90));
        Assert.False(node.HasExited, "the node's process exited instead of rejoining");
        output.WriteLine($"node {pausedId} was downed while frozen, restarted in process and is back in every ISR");
    }
}
