using System.Collections.Concurrent;
using System.Diagnostics;
using Broker.Client;
using Broker.Protocol.Messages;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// Issue 14: consumer groups survive the loss of any node. A group's state lives in a partition of the internal topic
/// __consumer_offsets (RF 3 here) and its coordinator runs beside that partition's leader, so SIGKILLing that node moves
/// the coordinator with the leadership: committed offsets stay exactly as they were, members keep going.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class GroupFailoverTests(ITestOutputHelper output)
{
    private const string OffsetsTopic = "__consumer_offsets";
    private const int OffsetsPartitions = 10; // broker.groups.offsets-topic-partitions' default
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    /// <summary>Kafka's rule (and the broker's): abs(Java String.hashCode) % partitions.</summary>
    private static int OffsetsPartitionOf(string groupId)
    {
        var h = 0;
        foreach (var c in groupId) h = unchecked((31 * h) + c);
        return (h == int.MinValue ? 0 : Math.Abs(h)) % OffsetsPartitions;
    }

    /// <summary>The index of the node that leads the group's __consumer_offsets partition, so runs its coordinator.</summary>
    private static async Task<int> CoordinatorIndexAsync(ThreeNodeCluster cluster, string groupId)
    {
        var partition = OffsetsPartitionOf(groupId);
        var leader = -1;
        await ThreeNodeCluster.Eventually(async () =>
        {
            var described = await cluster.DescribeAsync(OffsetsTopic);
            leader = described.Partitions.Single(p => p.Partition == partition).LeaderId;
            return leader > 0;
        }, Wait, $"a leader for {OffsetsTopic}/{partition}");
        return cluster.IndexOfNodeId(leader);
    }

    private static async Task<Dictionary<int, long>> CommittedAsync(AdminClient admin, string groupId)
    {
        var described = await admin.DescribeGroupAsync(groupId);
        return described.Offsets.ToDictionary(o => o.Partition, o => o.Offset);
    }

    [Fact]
    public async Task Committed_offsets_of_12_groups_stay_exact_through_the_kill_of_every_node_and_of_all_three()
    {
        const string topic = "orders";
        const int partitions = 6;
        var groups = Enumerable.Range(1, 12).Select(i => $"g{i}").ToArray();
        await using var cluster = new ThreeNodeCluster();
        await cluster.StartAsync();
        await cluster.CreateTopicAsync(topic, partitions, replicas: 3, minInsyncReplicas: 2);
        await cluster.WaitForIsrAsync(topic, 3, Wait);

        // Every group commits several rounds; what must survive is the last round.
        var expected = new Dictionary<string, Dictionary<int, long>>();
        await using (var admin = cluster.Admin())
        {
            for (var round = 1; round <= 5; round++)
            {
                foreach (var (group, g) in groups.Select((group, g) => (group, g)))
                {
                    var offsets = Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, (round * 1000) + (g * 10) + p)).ToList();
                    await RetryAsync(() => admin.SetGroupOffsetsAsync(group, offsets), $"commit of {group}");
                    expected[group] = offsets.ToDictionary(o => o.Partition, o => o.Offset);
                }
            }
        }
        await cluster.WaitForIsrAsync(OffsetsTopic, 3, Wait);
        await CheckAsync(cluster, groups, expected, "after the commits");

        for (var i = 0; i < cluster.Size; i++)
        {
            var watch = Stopwatch.StartNew();
            cluster.Kill(i);
            await CheckAsync(cluster, groups, expected, $"node {i} killed");
            output.WriteLine($"node {i} killed: every group readable and exact after {watch.Elapsed.TotalSeconds:0.0} s");
            await cluster.WaitForKilledNodesRemovedAsync();
            await cluster.StartNodeAsync(i);
            await cluster.WaitForMembersAsync(3, Wait);
            await CheckAsync(cluster, groups, expected, $"node {i} restarted");
        }

        var all = Stopwatch.StartNew();
        await cluster.KillAllAndRestartAsync();
        await CheckAsync(cluster, groups, expected, "all three killed and restarted");
        output.WriteLine($"all three killed and restarted: every group exact after {all.Elapsed.TotalSeconds:0.0} s");

        for (var i = 0; i < cluster.Size; i++)
        {
            await using var admin = new AdminClient(new ClientConfig { BootstrapServers = cluster.BootstrapIn(i), RequestTimeout = TimeSpan.FromSeconds(10) });
            IReadOnlyList<GroupListing> listed = [];
            await ThreeNodeCluster.Eventually(async () => (listed = await admin.ListGroupsAsync()).Count == groups.Length, Wait, $"node {i} lists every group");
            Assert.Equal(groups.OrderBy(g => g, StringComparer.Ordinal), listed.Select(l => l.GroupId));
        }
    }

    /// <summary>Every group, asked through every running node, has exactly the expected offsets; a read may fail while a coordinator moves, never differ.</summary>
    private static async Task CheckAsync(ThreeNodeCluster cluster, string[] groups, Dictionary<string, Dictionary<int, long>> expected, string step)
    {
        for (var i = 0; i < cluster.Size; i++)
        {
            if (!cluster.IsRunning(i)) continue;
            await using var admin = new AdminClient(new ClientConfig { BootstrapServers = cluster.BootstrapIn(i), RequestTimeout = TimeSpan.FromSeconds(10) });
            foreach (var group in groups)
            {
                Dictionary<int, long>? committed = null;
                await ThreeNodeCluster.Eventually(async () => (committed = await CommittedAsync(admin, group)) is not null, Wait, $"{group} readable through node {i} ({step})");
                Assert.True(expected[group].OrderBy(kv => kv.Key).SequenceEqual(committed!.OrderBy(kv => kv.Key)),
                    $"{step}: {group} through node {i} has offsets [{string.Join(", ", committed!.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}:{kv.Value}"))}], expected [{string.Join(", ", expected[group].OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}:{kv.Value}"))}]");
            }
        }
    }

    private static async Task RetryAsync(Func<Task> action, string what)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await action();
                return;
            }
            catch (BrokerException) when (attempt < 30)
            {
                await Task.Delay(500);
            }
        }
    }

    [Fact]
    public async Task A_group_of_three_consumers_keeps_going_when_the_node_running_its_coordinator_is_killed()
    {
        const string topic = "events";
        const string group = "workers";
        const int partitions = 6;
        await using var cluster = new ThreeNodeCluster();
        await cluster.StartAsync();
        await cluster.CreateTopicAsync(topic, partitions, replicas: 3, minInsyncReplicas: 2);
        await cluster.WaitForIsrAsync(topic, 3, Wait);

        using var stop = new CancellationTokenSource();
        var checker = new AckChecker(partitions);
        var writing = Task.Run(() => AckedWriters.RunAsync(checker, cluster.Bootstrap, topic, Acks.All, stop.Token, inFlight: 8));

        // Three consumers, each on its own thread; every record read is counted, with when it was read.
        var reads = new ConcurrentDictionary<(int Partition, long Offset), int>();
        var readEnds = new long[partitions];
        long lastRead = Environment.TickCount64, longestPause = 0, pauseEndedAt = 0;
        var gate = new object();
        var consumers = Enumerable.Range(0, 3).Select(i => Task.Factory.StartNew(() =>
        {
            using var consumer = new Consumer(new ConsumerConfig
            {
                BootstrapServers = cluster.Bootstrap, GroupId = group, ClientId = $"c{i}", AutoOffsetReset = AutoOffsetReset.Earliest,
                SessionTimeoutMs = 10_000, HeartbeatIntervalMs = 1_000, AutoCommitIntervalMs = 500, RequestTimeout = TimeSpan.FromSeconds(5),
            });
            consumer.Subscribe(topic);
            while (!stop.IsCancellationRequested || !Drained())
            {
                ConsumeResult? record;
                try
                {
                    record = consumer.Consume(TimeSpan.FromMilliseconds(200));
                }
                catch (BrokerException)
                {
                    continue;
                }
                if (record is null) continue;
                reads.AddOrUpdate((record.Partition, record.Offset), 1, (_, n) => n + 1);
                lock (gate)
                {
                    readEnds[record.Partition] = Math.Max(readEnds[record.Partition], record.Offset + 1);
                    var now = Environment.TickCount64;
                    if (now - lastRead > longestPause)
                    {
                        longestPause = now - lastRead;
                        pauseEndedAt = now;
                    }
                    lastRead = now;
                }
            }
            consumer.Close();
        }, TaskCreationOptions.LongRunning)).ToArray();

        bool Drained() => checker.AcknowledgedEnds().Select((end, p) => (end, p)).All(x => Volatile.Read(ref readEnds[x.p]) >= x.end);

        // Committed offsets are sampled every 200 ms: none may ever go backwards.
        var backwards = new ConcurrentQueue<string>();
        var highest = new Dictionary<int, long>();
        var sampling = Task.Run(async () =>
        {
            await using var admin = cluster.Admin();
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    foreach (var (p, offset) in await CommittedAsync(admin, group))
                    {
                        if (highest.TryGetValue(p, out var before) && offset < before) backwards.Enqueue($"{topic}/{p}: {before} -> {offset}");
                        highest[p] = Math.Max(offset, before);
                    }
                }
                catch (BrokerException)
                {
                    // the coordinator is moving: no answer is not a wrong answer
                }
                await Task.Delay(200);
            }
        });

        await ThreeNodeCluster.Eventually(() => Task.FromResult(reads.Count > 3_000), Wait, "the group consuming");
        await using (var admin = cluster.Admin())
            await ThreeNodeCluster.Eventually(async () => (await admin.DescribeGroupAsync(group)).Members.Count == 3, Wait, "three members");
        var coordinator = await CoordinatorIndexAsync(cluster, group);
        int generationBefore;
        Dictionary<int, long> committedAtKill;
        await using (var admin = cluster.Admin())
        {
            var described = await admin.DescribeGroupAsync(group);
            generationBefore = described.GenerationId;
            committedAtKill = described.Offsets.ToDictionary(o => o.Partition, o => o.Offset);
        }
        long[] readAtKill;
        lock (gate) readAtKill = (long[])readEnds.Clone();
        var bound = Enumerable.Range(0, partitions).Sum(p => Math.Max(0, readAtKill[p] - committedAtKill.GetValueOrDefault(p)));
        var killedAt = Environment.TickCount64;
        lock (gate) longestPause = 0;
        cluster.Kill(coordinator);
        output.WriteLine($"killed node {coordinator} (node id leading {OffsetsTopic}/{OffsetsPartitionOf(group)}); read but not committed at the kill: {bound} records");

        await Task.Delay(TimeSpan.FromSeconds(20));
        await cluster.WaitForKilledNodesRemovedAsync();
        await cluster.StartNodeAsync(coordinator);
        await cluster.WaitForMembersAsync(3, Wait);
        await Task.Delay(TimeSpan.FromSeconds(10));

        stop.Cancel();
        await writing;
        await Task.WhenAll(consumers).WaitAsync(Wait);
        await sampling;

        int generationAfter;
        await using (var admin = cluster.Admin())
        {
            await ThreeNodeCluster.Eventually(async () =>
            {
                var committed = await CommittedAsync(admin, group);
                return checker.AcknowledgedEnds().Select((end, p) => committed.GetValueOrDefault(p) >= end).All(x => x);
            }, Wait, "the group's lag at 0");
            generationAfter = (await admin.DescribeGroupAsync(group)).GenerationId;
        }

        var missing = checker.AcknowledgedOffsets.Where(a => !reads.ContainsKey(a)).ToList();
        var duplicates = reads.Values.Sum(n => n - 1);
        output.WriteLine($"acknowledged {checker.AckCount} records, read {reads.Count} distinct, {duplicates} read twice or more (bound: {bound}); " +
            $"generation {generationBefore} -> {generationAfter}; longest pause in consumption after the kill {longestPause} ms (ended {pauseEndedAt - killedAt} ms after the kill)");
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged records never consumed, e.g. {string.Join(", ", missing.Take(5))}");
        Assert.True(backwards.IsEmpty, $"committed offsets went backwards: {string.Join("; ", backwards.Take(5))}");
        Assert.Empty(checker.Conflicts);
        if (generationAfter == generationBefore) Assert.True(duplicates <= bound, $"{duplicates} records read twice, more than the {bound} read but not committed at the kill");
    }
}
