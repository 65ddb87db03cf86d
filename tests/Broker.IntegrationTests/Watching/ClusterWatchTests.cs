using System.Text.Json;
using Broker.IntegrationTests.Replication;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Watching;

/// <summary>
/// `broker cluster status --watch` against three real nodes while the node it asks is SIGKILLed (issue 17, "must
/// show" 1): the JSON frames show the node Unreachable or Down and its partitions led elsewhere with higher epochs
/// within 15 s, and after a restart the node back in every ISR. A second watcher on a pipe prints plain frames with
/// no escape codes.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterWatchTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "watched";
    private readonly ThreeNodeCluster _cluster = new();

    public async Task InitializeAsync()
    {
        await _cluster.StartAsync();
        await _cluster.CreateTopicAsync(Topic, partitions: 6, replicas: 3, minInsyncReplicas: 2);
    }

    public Task DisposeAsync() => _cluster.DisposeAsync().AsTask();

    private sealed record Frame(DateTimeOffset At, Dictionary<int, string> Nodes, Dictionary<int, (int Leader, int Epoch, int[] Isr)> Partitions, string[] Events);

    private static List<Frame> Frames(CliProcess watch)
    {
        var frames = new List<Frame>();
        foreach (var line in watch.Lines)
        {
            using var doc = JsonDocument.Parse(line); // every stdout line must be one whole JSON document
            var root = doc.RootElement;
            frames.Add(new Frame(
                root.GetProperty("at").GetDateTimeOffset(),
                root.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("id").GetInt32(), n => n.GetProperty("state").GetString()!),
                root.GetProperty("partitions").EnumerateArray().Where(p => p.GetProperty("topic").GetString() == Topic).ToDictionary(
                    p => p.GetProperty("partition").GetInt32(),
                    p => (p.GetProperty("leader").GetInt32(), p.GetProperty("leaderEpoch").GetInt32(), p.GetProperty("isr").EnumerateArray().Select(i => i.GetInt32()).ToArray())),
                root.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("text").GetString()!).ToArray()));
        }
        return frames;
    }

    [Fact]
    public async Task Watch_shows_a_killed_node_its_partitions_moving_and_its_return_to_every_ISR()
    {
        await ThreeNodeCluster.Eventually(async () => (await _cluster.DescribeAsync(Topic)).Partitions.All(p => p.LeaderId > 0 && p.Isr.Count == 3),
            TimeSpan.FromSeconds(30), "every partition led, with three in-sync replicas");
        var before = await _cluster.DescribeAsync(Topic);
        var busiest = before.Partitions.GroupBy(p => p.LeaderId).OrderByDescending(g => g.Count()).First();
        var victimId = busiest.Key;
        var victim = _cluster.IndexOfNodeId(victimId);
        var others = Enumerable.Range(0, 3).Where(i => i != victim).ToArray();
        // The watcher asks the victim first: when it dies, the watch must move on to the other addresses.
        var bootstrap = _cluster.BootstrapIn([victim, .. others]);
        using var json = CliProcess.Start("cluster", "status", "--watch", "--output", "json", "--interval", "1s", "--bootstrap", bootstrap);
        using var plain = CliProcess.Start("cluster", "status", "--watch", "--interval", "1s", "--bootstrap", bootstrap);

        await ThreeNodeCluster.Eventually(() => Task.FromResult(Frames(json).Any(f => f.Nodes.Count == 3 && f.Nodes.Values.All(s => s == "Up")
            && f.Partitions.Count == 6 && f.Partitions.Values.All(p => p.Leader > 0))), TimeSpan.FromSeconds(30), "a frame with 3 nodes Up and 6 led partitions");
        var led = Frames(json).Last().Partitions.Where(p => p.Value.Leader == victimId).ToDictionary(p => p.Key, p => p.Value.Epoch);
        Assert.NotEmpty(led);

        var killedAt = DateTimeOffset.UtcNow;
        _cluster.Kill(victim);
        output.WriteLine($"killed node {victimId}, which led partitions {string.Join(",", led.Keys)}");

        Frame? moved = null;
        await ThreeNodeCluster.Eventually(() =>
        {
            moved = Frames(json).FirstOrDefault(f => f.At > killedAt
                && (!f.Nodes.TryGetValue(victimId, out var state) || state is "Unreachable" or "Down")
                && led.All(l => f.Partitions.TryGetValue(l.Key, out var p) && p.Leader > 0 && p.Leader != victimId && p.Epoch > l.Value));
            return Task.FromResult(moved is not null);
        }, TimeSpan.FromSeconds(40), $"a frame with node {victimId} Unreachable or Down and its partitions led elsewhere with higher epochs");
        var took = moved!.At - killedAt;
        output.WriteLine($"failover seen by the watch after {took.TotalSeconds:0.0}s: node {victimId} {moved.Nodes.GetValueOrDefault(victimId, "absent")}");
        Assert.True(took < TimeSpan.FromSeconds(15), $"the watch showed the failover only after {took.TotalSeconds:0.0}s");
        var events = Frames(json).SelectMany(f => f.Events).ToList();
        Assert.Contains(events, e => e.StartsWith($"{Topic}/", StringComparison.Ordinal) && e.Contains($"leader {victimId} → ", StringComparison.Ordinal));

        await _cluster.WaitForKilledNodesRemovedAsync();
        var restartedAt = DateTimeOffset.UtcNow;
        await _cluster.StartNodeAsync(victim);
        await ThreeNodeCluster.Eventually(() => Task.FromResult(Frames(json).Any(f => f.At > restartedAt
            && f.Nodes.GetValueOrDefault(victimId) == "Up" && f.Partitions.Values.All(p => p.Isr.Contains(victimId)))),
            TimeSpan.FromSeconds(120), $"a frame with node {victimId} Up and back in every ISR");
        Assert.Contains(Frames(json).SelectMany(f => f.Events), e => e.StartsWith($"node {victimId} back in ISR of ", StringComparison.Ordinal));

        // The same watch on a pipe: frames of plain text, no escape codes, and the same event lines.
        var lines = plain.Lines.ToArray();
        Assert.DoesNotContain(lines, l => l.Contains('\u001b', StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("PARTITION", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"node {victimId} back in ISR of ", StringComparison.Ordinal));
        output.WriteLine(string.Join("\n", Frames(json).SelectMany(f => f.Events.Select(e => $"{f.At:HH:mm:ss.f} {e}"))));
    }
}
