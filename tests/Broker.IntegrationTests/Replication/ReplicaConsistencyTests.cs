using System.Text;
using Broker.Client;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// Replicas agree after leader changes (a diverged suffix is truncated, also across a restart), and
/// min.insync.replicas refuses acks=all writes it could not keep. Real node processes, RF 2 topics.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ReplicaConsistencyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly ThreeNodeCluster _cluster = new();

    public Task InitializeAsync() => _cluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_diverged_follower_truncates_to_the_new_leader_and_keeps_that_across_a_restart()
    {
        const string topic = "diverge";
        await _cluster.CreateTopicAsync(topic, 1, 2, minInsyncReplicas: 1);
        // A new partition gets its leader moments after the topic exists (on a busy machine, seconds).
        await ThreeNodeCluster.Eventually(async () => (await _cluster.DescribeAsync(topic)).Partitions[0].LeaderId > 0, TimeSpan.FromSeconds(60), "the new partition has a leader");
        var partition = (await _cluster.DescribeAsync(topic)).Partitions[0];
        var oldLeader = _cluster.IndexOfNodeId(partition.LeaderId);
        var follower = _cluster.IndexOfNodeId(partition.Replicas.Single(id => id != partition.LeaderId));

        // acks=1 under load while the follower is frozen for a moment (shorter than failure detection): the
        // leader's log runs ahead, so killing it leaves a suffix the follower never got.
        using (var stop = new CancellationTokenSource())
        {
            // The producer talks to the leader's node first (then the third), never through the node it freezes.
            var third = 3 - oldLeader - follower;
            var load = ProduceAsync(topic, Acks.Leader, "before", _cluster.BootstrapIn(oldLeader, third, follower), stop.Token);
            await Task.Delay(TimeSpan.FromSeconds(2));
            _cluster.Node(follower).Pause();
            await Task.Delay(TimeSpan.FromMilliseconds(1200));
            _cluster.Kill(oldLeader);
            _cluster.Node(follower).Resume();
            // The follower takes over and writes its own records at the offsets the dead leader had used.
            await ThreeNodeCluster.Eventually(async () => (await _cluster.DescribeAsync(topic)).Partitions[0].LeaderId == _cluster.NodeIdOf(follower),
                TimeSpan.FromSeconds(60), "the follower leads");
            await Task.Delay(TimeSpan.FromSeconds(2));
            stop.Cancel();
            await load;
        }

        await _cluster.WaitForKilledNodesRemovedAsync();
        await _cluster.StartNodeAsync(oldLeader);
        await WaitForIsrAsync(topic, 2);
        Assert.Contains("log diverged from leader", _cluster.Node(oldLeader).Output);
        var leaderLog = await ReadAllAsync(topic);
        output.WriteLine($"new leader's log: {leaderLog.Count} records; the old leader truncated its suffix and rejoined the ISR");

        // Restart the truncated replica (recovery must honour the truncation), then make it the leader and read its log.
        _cluster.Kill(oldLeader);
        await _cluster.WaitForKilledNodesRemovedAsync();
        await _cluster.StartNodeAsync(oldLeader);
        await WaitForIsrAsync(topic, 2);
        _cluster.Kill(follower);
        try
        {
            await ThreeNodeCluster.Eventually(async () => (await _cluster.DescribeAsync(topic)).Partitions[0].LeaderId == _cluster.NodeIdOf(oldLeader),
                TimeSpan.FromSeconds(90), "the old leader leads again");
        }
        catch (TimeoutException)
        {
            foreach (var line in _cluster.Node(oldLeader).Output.Split('\n'))
                if (line.Contains("diverge/0") || line.Contains("diverge-0") || line.Contains("SBR")) output.WriteLine("old leader: " + line[..Math.Min(line.Length, 260)]);
            throw;
        }
        var oldLeaderLog = await ReadAllAsync(topic);
        Assert.Equal(leaderLog.Count, oldLeaderLog.Count);
        foreach (var (offset, value) in leaderLog)
            Assert.True(oldLeaderLog.TryGetValue(offset, out var other) && other == value, $"offset {offset}: '{value}' on the new leader, '{other}' on the old one");
    }

    [Fact]
    public async Task Fewer_in_sync_replicas_than_min_insync_refuses_acks_all_and_keeps_committed_data()
    {
        const string topic = "minisr";
        await _cluster.CreateTopicAsync(topic, 1, 2, minInsyncReplicas: 2);
        await WaitForIsrAsync(topic, 2);
        var partition = (await _cluster.DescribeAsync(topic)).Partitions[0];
        var follower = _cluster.IndexOfNodeId(partition.Replicas.Single(id => id != partition.LeaderId));

        // An idempotent producer retries NotEnoughReplicas (the ISR may grow back) until its delivery timeout; keep that short to see the refusal.
        await using var producer = new Producer(new ProducerConfig
        {
            BootstrapServers = _cluster.Bootstrap, Acks = Acks.All, RequestTimeout = TimeSpan.FromSeconds(5), DeliveryTimeout = TimeSpan.FromSeconds(5),
        });
        var committed = new Dictionary<long, string>();
        for (var i = 0; i < 100; i++)
        {
            var result = await producer.ProduceAsync(topic, 0, new Message { Value = Encoding.UTF8.GetBytes($"committed-{i}") });
            committed[result.Offset] = $"committed-{i}";
        }

        _cluster.Kill(follower);
        // Once the leader drops the dead follower from the ISR, acks=all is refused rather than acknowledged on one disk.
        BrokerException? refused = null;
        await ThreeNodeCluster.Eventually(async () =>
        {
            try
            {
                await producer.ProduceAsync(topic, 0, new Message { Value = Encoding.UTF8.GetBytes("refused") });
                return false;
            }
            catch (BrokerException e) when (e.Error == ErrorCode.NotEnoughReplicas)
            {
                refused = e;
                return true;
            }
            catch (BrokerException)
            {
                return false; // the follower's node is still being detected (timeouts), or the ISR shrank while waiting (AfterAppend)
            }
        }, TimeSpan.FromSeconds(60), "acks=all is refused with NotEnoughReplicas");
        output.WriteLine($"refused: {refused!.Error}: {refused.Message}");
        Assert.Contains("min.insync.replicas", refused.Message);

        var read = await ReadAllAsync(topic);
        foreach (var (offset, value) in committed) Assert.Equal(value, read[offset]);

        await _cluster.WaitForKilledNodesRemovedAsync();
        await _cluster.StartNodeAsync(follower);
        await WaitForIsrAsync(topic, 2);
        var after = await producer.ProduceAsync(topic, 0, new Message { Value = Encoding.UTF8.GetBytes("after") });
        Assert.True(after.Offset >= committed.Keys.Max());
    }

    private Task WaitForIsrAsync(string topic, int size) =>
        ThreeNodeCluster.Eventually(async () =>
        {
            var p = (await _cluster.DescribeAsync(topic)).Partitions[0];
            return p.LeaderId > 0 && p.Isr.Count == size;
        }, TimeSpan.FromSeconds(90), $"{topic}/0 has a leader and {size} in-sync replicas");

    private static async Task ProduceAsync(string topic, Acks acks, string prefix, string bootstrap, CancellationToken stop)
    {
        await using var producer = new Producer(new ProducerConfig { BootstrapServers = bootstrap, Acks = acks, LingerMs = 1, RequestTimeout = TimeSpan.FromSeconds(3) });
        var sequence = 0;
        // `stop` ends the loop; sends already started run to their answer, so they are not cancelled.
        while (!stop.IsCancellationRequested)
        {
            var sends = new Task[64];
            for (var i = 0; i < sends.Length; i++)
                sends[i] = producer.ProduceAsync(topic, 0, new Message { Value = Encoding.UTF8.GetBytes($"{prefix}-{sequence++}") }, CancellationToken.None);
            try
            {
                await Task.WhenAll(sends);
            }
            catch (BrokerException)
            {
                await Task.Delay(100, CancellationToken.None); // failing over
            }
        }
    }

    /// <summary>Everything below the high watermark of partition 0, read through the cluster (from its leader).</summary>
    private async Task<Dictionary<long, string>> ReadAllAsync(string topic)
    {
        await using var admin = _cluster.Admin();
        var end = (await admin.ListOffsetsAsync(topic, 0, OffsetSpec.Latest)).Offset;
        var read = await LogReader.ReadAllAsync(_cluster.Bootstrap, topic, 1, TimeSpan.FromSeconds(60));
        Assert.True(read.Count >= end, $"read {read.Count} of {end} records of {topic}/0");
        return read.ToDictionary(kv => kv.Key.Offset, kv => kv.Value);
    }
}
