using System.Globalization;
using System.Text;
using Broker.Client;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// A node is gone for good: `broker partitions reassign --replace-node` moves its replicas to a new node while
/// acks=all producers keep writing. The new replicas copy the logs and join the ISRs, the dead node disappears
/// from every assignment, and then the other old replica's node is killed too, so the moved partitions can only
/// be served by the new node's copies: every acknowledged record is read back at its offset.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ReassignmentTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "moving";
    private const int Partitions = 4;
    // On the Distributed Data store: the test kills two of the three first nodes for good, which on a quorum of those
    // three voters leaves no majority to decide anything (as in Kafka with three controllers). A replacement node on a
    // quorum cluster is an observer (GroupFailoverTests' fourth node).
    // Retention checks every 2 s instead of 30 s, so the trimmed-log test does not wait half a minute for one.
    private readonly ThreeNodeCluster _cluster = new(spares: 1, quorum: false, nodeConfig: "broker.partition.retention-check-interval = 2s");
    private readonly AckChecker _checker = new(Partitions);
    private readonly CancellationTokenSource _stop = new();

    public Task InitializeAsync() => _cluster.StartAsync();

    public async Task DisposeAsync()
    {
        _stop.Cancel();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Replicas_of_a_node_gone_for_good_move_to_a_new_node_that_then_serves_every_acknowledged_record()
    {
        await _cluster.CreateTopicAsync(Topic, Partitions, 2, minInsyncReplicas: 1);
        await WaitForIsrsAsync(_ => true, "every partition has two in-sync replicas");
        var load = Task.Run(() => AckedWriters.RunAsync(_checker, _cluster.Bootstrap, Topic, Acks.All, _stop.Token, inFlight: 16));
        await ThreeNodeCluster.Eventually(() => Task.FromResult(_checker.AckCount >= 4_000), TimeSpan.FromSeconds(60), "4,000 acknowledgements");

        // Node index 2 dies and never comes back; a fresh node (index 3) joins to take its place.
        var gone = _cluster.NodeIdOf(2);
        var before = await _cluster.DescribeAsync(Topic);
        var moved = before.Partitions.Where(p => p.Replicas.Contains(gone)).Select(p => p.Partition).ToList();
        Assert.NotEmpty(moved);
        _cluster.Kill(2);
        await _cluster.WaitForKilledNodesRemovedAsync();
        await _cluster.StartNodeAsync(3);
        await _cluster.WaitForMembersAsync(3, TimeSpan.FromSeconds(60));
        var fresh = _cluster.NodeIdOf(3);
        var acksBeforeMove = _checker.AckCount;
        output.WriteLine($"node {gone} killed for good (replica of partitions [{string.Join(",", moved)}]); node {fresh} joined; {acksBeforeMove} acknowledged so far");

        var (exit, stdout, stderr) = await CliProcess.RunAsync(null, TimeSpan.FromMinutes(3),
            "partitions", "reassign", "--replace-node", gone.ToString(CultureInfo.InvariantCulture), "--to-node", fresh.ToString(CultureInfo.InvariantCulture), "--wait", "--timeout", "150", "--bootstrap", _cluster.BootstrapIn(0, 1, 3));
        output.WriteLine(stdout);
        Assert.True(exit == 0, $"reassign exited {exit}: {stderr}");
        Assert.Contains($"all {moved.Count} move(s) done", stdout);

        var after = await _cluster.DescribeAsync(Topic);
        foreach (var p in after.Partitions)
        {
            Assert.DoesNotContain(gone, p.Replicas);
            Assert.Empty(p.AddingReplicas);
            Assert.Empty(p.RemovingReplicas);
            Assert.Equal(2, p.Replicas.Count);
            if (moved.Contains(p.Partition)) Assert.Contains(fresh, p.Replicas);
        }
        await WaitForIsrsAsync(_ => true, "every partition has two in-sync replicas after the move");

        // Now only the new node's copies can serve the moved partitions whose other replica sits on the node killed next.
        var survivor = after.Partitions.Where(p => moved.Contains(p.Partition)).SelectMany(p => p.Replicas).First(id => id != fresh);
        var servedByFresh = after.Partitions.Where(p => p.Replicas.Contains(survivor) && p.Replicas.Contains(fresh)).Select(p => p.Partition).ToList();
        _cluster.Kill(_cluster.IndexOfNodeId(survivor));
        await WaitForIsrsAsync(p => servedByFresh.Contains(p.Partition) ? p.LeaderId == fresh : p.LeaderId > 0 && p.LeaderId != survivor,
            $"partitions [{string.Join(",", servedByFresh)}] led by the new node {fresh}");
        await ThreeNodeCluster.Eventually(() => Task.FromResult(_checker.AckCount >= acksBeforeMove + 2_000), TimeSpan.FromSeconds(60), "writes go on");
        _stop.Cancel();
        await load;

        var result = await _checker.ReadBackAsync(_cluster.BootstrapIn(0, 1, 3), Topic, TimeSpan.FromSeconds(120));
        output.WriteLine($"node {survivor} killed too; partitions [{string.Join(",", servedByFresh)}] now served by node {fresh} alone; checker: {result}");
        Assert.Empty(result.Conflicts);
        Assert.Empty(result.Lost);
        Assert.Equal(0, result.Unread);
    }

    [Fact]
    public async Task A_new_replica_of_a_log_that_retention_already_trimmed_starts_at_the_leaders_log_start()
    {
        const string topic = "trimmed";
        await using var admin = _cluster.Admin();
        var created = await admin.CreateTopicsAsync([new TopicSpec(topic, 1, 1, new Dictionary<string, string> { ["retention.ms"] = "600000" })]);
        Assert.Equal(ErrorCode.None, created[0].Error);
        var kept = new Dictionary<long, string>();
        await using (var producer = new Producer(new ProducerConfig { BootstrapServers = _cluster.Bootstrap, Acks = Acks.All, LingerMs = 0 }))
        {
            // Hour-old records that retention (10 min) removes at its next check, then records that stay.
            var old = DateTimeOffset.UtcNow.AddHours(-1);
            for (var i = 0; i < 200; i++)
                await producer.ProduceAsync(topic, 0, new Message { Value = Encoding.UTF8.GetBytes($"old-{i}"), Timestamp = old });
            for (var i = 0; i < 300; i++)
            {
                var r = await producer.ProduceAsync(topic, 0, new Message { Value = Encoding.UTF8.GetBytes($"new-{i}") });
                kept[r.Offset] = $"new-{i}";
            }
        }
        var logStart = 0L;
        await ThreeNodeCluster.Eventually(async () => (logStart = (await admin.ListOffsetsAsync(topic, 0, OffsetSpec.Earliest)).Offset) > 0,
            TimeSpan.FromSeconds(90), "retention removes the old records (it checks every 2 s here)");
        var before = (await _cluster.DescribeAsync(topic)).Partitions[0];
        var target = Enumerable.Range(0, 3).Select(_cluster.NodeIdOf).First(id => id != before.LeaderId);
        output.WriteLine($"leader {before.LeaderId} starts its log at {logStart}; moving the only replica to node {target}");

        var result = (await admin.ReassignPartitionsAsync([new PartitionReassignment(topic, 0, [target])]))[0];
        Assert.Equal(ErrorCode.None, result.Error);
        // One replica moves: the new one copies from the leader's log start, the leadership moves to it, the old one goes.
        await ThreeNodeCluster.Eventually(async () => (await _cluster.DescribeAsync(topic)).Partitions[0] is { RemovingReplicas.Count: 0 } p
            && p.LeaderId == target && p.Replicas.SequenceEqual([target]), TimeSpan.FromSeconds(90), $"node {target} alone holds and leads {topic}/0");

        Assert.Equal(logStart, (await admin.ListOffsetsAsync(topic, 0, OffsetSpec.Earliest)).Offset);
        var read = await LogReader.ReadAllAsync(_cluster.Bootstrap, topic, 1, TimeSpan.FromSeconds(30));
        Assert.Equal(kept.Where(k => k.Key >= logStart).ToDictionary(), read.ToDictionary(kv => kv.Key.Offset, kv => kv.Value));
        Assert.Contains("continuing from", _cluster.Node(_cluster.IndexOfNodeId(target)).Output);
    }

    private Task WaitForIsrsAsync(Func<Broker.Protocol.Messages.PartitionMetadata, bool> condition, string what) =>
        ThreeNodeCluster.Eventually(async () =>
        {
            var topic = await _cluster.DescribeAsync(Topic);
            return topic.Partitions.All(p => p.LeaderId > 0 && p.Isr.Contains(p.LeaderId) && condition(p))
                && topic.Partitions.All(p => p.Isr.Count == p.Replicas.Count(id => _cluster.IndexOfNodeId(id) is var i && i >= 0 && _cluster.IsRunning(i)));
        }, TimeSpan.FromSeconds(90), what);
}
