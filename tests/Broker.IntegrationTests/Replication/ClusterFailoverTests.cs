using System.Diagnostics;
using Broker.Client;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// Three node processes, a topic with 6 partitions, RF 3 and min.insync.replicas=2, acks=all producers running
/// while first the node leading the most partitions and then the oldest node are SIGKILLed. After each kill
/// every partition gets a leader again and acknowledges again (the failover time is printed); the killed node
/// restarts, catches up and rejoins every ISR; at the end every acknowledged record is read back at its
/// offset with its content, and no offset was acknowledged for two records.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "failover";
    // 6 in the suite; BROKER_FAILOVER_PARTITIONS=1000 measures failover with many partitions (opt-in; README).
    private static readonly int Partitions = int.TryParse(Environment.GetEnvironmentVariable("BROKER_FAILOVER_PARTITIONS"), out var n) && n > 0 ? n : 6;
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(Partitions / 10.0);
    private readonly ThreeNodeCluster _cluster = new();
    private readonly AckChecker _checker = new(Partitions);
    private readonly CancellationTokenSource _stop = new();

    public Task InitializeAsync() => _cluster.StartAsync();

    public async Task DisposeAsync()
    {
        _stop.Cancel();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Killing_the_busiest_leader_and_then_the_oldest_node_loses_no_acknowledged_record()
    {
        var load = await StartLoadAsync();

        // 1: the node that leads the most partitions.
        var leaders = (await _cluster.DescribeAsync(Topic)).Partitions.GroupBy(p => p.LeaderId).OrderByDescending(g => g.Count()).First();
        await KillAndRecoverAsync(_cluster.IndexOfNodeId(leaders.Key), $"busiest leader (node {leaders.Key}, {leaders.Count()} partitions)");

        // 2: the oldest node: it hosts the topic registry and the shard coordinators.
        await KillAndRecoverAsync(_cluster.Oldest, "oldest node");

        await WaitForAcksAsync(_checker.AckCount + 2_000, TimeSpan.FromSeconds(60));
        _stop.Cancel();
        await load;
        var result = await _checker.ReadBackAsync(_cluster.Bootstrap, Topic, TimeSpan.FromSeconds(120));
        output.WriteLine($"checker: {result}; {_checker.FailureCount} sends failed (not acknowledged, so allowed to be lost)");
        Assert.Empty(result.Conflicts);
        Assert.Empty(result.Lost);
        Assert.Equal(0, result.Unread);
        Assert.Empty(result.Duplicates); // the producer is idempotent: its retries through the failovers stored nothing twice
    }

    [Fact]
    public async Task Topics_leaders_and_acknowledged_records_survive_a_full_cluster_SIGKILL()
    {
        var load = await StartLoadAsync();
        var before = await _cluster.DescribeAsync(Topic);

        // Every node dies at once: the metadata (topics, assignments, ISR, epochs) must come back from the
        // nodes' own durable copies, and no replica may purge its log for want of a topic.
        await _cluster.KillAllAndRestartAsync();
        await WaitForFullIsrAsync(TimeSpan.FromSeconds(90) + Slack);
        var after = await _cluster.DescribeAsync(Topic);
        Assert.Equal(before.TopicId, after.TopicId);
        foreach (var p in after.Partitions)
        {
            Assert.Equal(before.Partitions[p.Partition].Replicas, p.Replicas);
            Assert.True(p.LeaderEpoch > before.Partitions[p.Partition].LeaderEpoch, $"partition {p.Partition}: epoch {p.LeaderEpoch} after the restart, {before.Partitions[p.Partition].LeaderEpoch} before");
        }

        var acknowledgedBefore = _checker.AckCount;
        await WaitForAcksAsync(acknowledgedBefore + 2_000, TimeSpan.FromSeconds(90)); // the producer reconnects and writes again
        _stop.Cancel();
        await load;
        var result = await _checker.ReadBackAsync(_cluster.Bootstrap, Topic, TimeSpan.FromSeconds(120));
        output.WriteLine($"full cluster restart: {result}; {_checker.FailureCount} sends failed");
        Assert.Empty(result.Conflicts);
        Assert.Empty(result.Lost);
        Assert.Empty(result.Duplicates); // retries across the restart meet producer state rebuilt from the logs
    }

    /// <summary>Creates the RF 3, min ISR 2 topic, waits for its full ISRs, and starts the acks=all writers (5,000 acknowledged when it returns).</summary>
    private async Task<Task> StartLoadAsync()
    {
        await _cluster.CreateTopicAsync(Topic, Partitions, 3, minInsyncReplicas: 2);
        await WaitForFullIsrAsync(TimeSpan.FromSeconds(60) + Slack);
        var load = Task.Run(() => AckedWriters.RunAsync(_checker, _cluster.Bootstrap, Topic, Acks.All, _stop.Token, inFlight: Math.Max(2, 192 / Partitions)));
        await WaitForAcksAsync(5_000, TimeSpan.FromSeconds(60));
        return load;
    }

    private async Task KillAndRecoverAsync(int index, string which)
    {
        var nodeId = _cluster.NodeIdOf(index);
        var before = await _cluster.DescribeAsync(Topic);
        var led = before.Partitions.Where(p => p.LeaderId == nodeId).Select(p => p.Partition).ToList();
        _cluster.Kill(index);
        var killedAt = Environment.TickCount64; // after the signal is delivered: a record sent later cannot reach the old leader
        output.WriteLine($"SIGKILL {which}: node {nodeId} (index {index}), leader of [{string.Join(",", led)}], after {_checker.AckCount} acknowledgements");

        // Every partition acknowledges an acks=all write again; the slowest of the killed node's partitions is the failover time.
        try
        {
            await ThreeNodeCluster.Eventually(() => Task.FromResult(Enumerable.Range(0, Partitions).All(p => _checker.FirstAckOfSendAfter(p, killedAt) is not null)),
                TimeSpan.FromSeconds(60) + Slack, "every partition acknowledges again");
        }
        catch (TimeoutException)
        {
            // Seen once in CI (2026-12-06, after killing the oldest node): what the survivors logged says why.
            for (var i = 0; i < 3; i++)
            {
                if (!_cluster.IsRunning(i)) continue;
                output.WriteLine($"---- node index {i}, last lines ----");
                foreach (var line in _cluster.Node(i).Output.Split('\n').TakeLast(80)) output.WriteLine(line[..Math.Min(line.Length, 300)]);
            }
            throw;
        }
        var failover = led.Count == 0 ? 0 : led.Max(p => _checker.FirstAckOfSendAfter(p, killedAt)!.Value - killedAt);
        output.WriteLine($"failover after killing the {which}: {failover} ms to the first acks=all acknowledgement on each of its partitions");
        output.WriteLine($"  killed at {DateTime.UtcNow.AddMilliseconds(killedAt - Environment.TickCount64):HH:mm:ss.fff}; what the survivors logged:");
        for (var i = 0; i < 3; i++)
        {
            if (!_cluster.IsRunning(i)) continue;
            foreach (var line in _cluster.Node(i).Output.Split('\n'))
            {
                if (line.Contains("Marking node as [UNREACHABLE]") || line.Contains("SBR took decision") || (line.Contains("leads in epoch") && !line.Contains("epoch 1 ")))
                    output.WriteLine("  " + line[..Math.Min(line.Length, 220)]);
            }
        }

        // Every node's metadata names the new leaders soon after they serve: a voter applies a committed change when
        // the next heartbeat tells it the commit index (Kafka's brokers lag their controller the same way), so a node
        // asked at once may still name the dead one. Within seconds, none does.
        await ThreeNodeCluster.Eventually(async () =>
        {
            var after = await _cluster.DescribeAsync(Topic);
            return after.Partitions.All(p => p.LeaderId > 0 && p.LeaderId != nodeId && p.Isr.Contains(p.LeaderId));
        }, TimeSpan.FromSeconds(10), $"every partition led by a live node in its ISR after node {nodeId} died");

        var restart = Stopwatch.StartNew();
        await _cluster.WaitForKilledNodesRemovedAsync();
        await _cluster.StartNodeAsync(index);
        await WaitForFullIsrAsync(TimeSpan.FromSeconds(90) + Slack);
        output.WriteLine($"node {nodeId} restarted, caught up and rejoined every ISR in {restart.ElapsedMilliseconds} ms");
    }

    /// <summary>Waits until every partition's ISR holds all three replicas; on the way, a leader is never outside its ISR.</summary>
    private async Task WaitForFullIsrAsync(TimeSpan timeout)
    {
        await ThreeNodeCluster.Eventually(async () =>
        {
            var topic = await _cluster.DescribeAsync(Topic);
            foreach (var p in topic.Partitions)
                if (p.LeaderId > 0) Assert.Contains(p.LeaderId, p.Isr); // a leader never moves to a replica without the data
            return topic.Partitions.All(p => p.LeaderId > 0 && p.Isr.Count == 3);
        }, timeout, "every partition has a leader and three in-sync replicas");
    }

    private async Task WaitForAcksAsync(int count, TimeSpan timeout) =>
        await ThreeNodeCluster.Eventually(() => Task.FromResult(_checker.AckCount >= count), timeout, $"{count} acknowledgements");
}

/// <summary>Multi-node tests run one at a time: each starts three nodes on a 2-core machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection
{
    public const string Name = "cluster";
}
