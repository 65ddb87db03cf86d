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
        // Group checkpoints after a handful of records, so partitions are snapshotted and trimmed before the kills, and
        // every rebuild on a new leader below starts from a log start its replica followed.
        await using var cluster = new ThreeNodeCluster(nodeConfig: "broker.groups { checkpoint-interval = 500ms, checkpoint-after-records = 4 }");
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
        await CheckAsync(output, cluster, groups, expected, "after the commits");
        var trimmed = await TrimmedAsync(cluster);
        output.WriteLine($"checkpointed before the kills: {string.Join(", ", trimmed.Select(t => $"{OffsetsTopic}/{t.Key} starts at {t.Value}"))}");
        Assert.NotEmpty(trimmed);

        for (var i = 0; i < cluster.Size; i++)
        {
            var watch = Stopwatch.StartNew();
            cluster.Kill(i);
            await CheckAsync(output, cluster, groups, expected, $"node {i} killed");
            output.WriteLine($"node {i} killed: every group readable and exact after {watch.Elapsed.TotalSeconds:0.0} s");
            await cluster.WaitForKilledNodesRemovedAsync();
            await cluster.StartNodeAsync(i);
            await cluster.WaitForMembersAsync(3, Wait);
            await CheckAsync(output, cluster, groups, expected, $"node {i} restarted");
        }

        var all = Stopwatch.StartNew();
        await cluster.KillAllAndRestartAsync();
        await CheckAsync(output, cluster, groups, expected, "all three killed and restarted");
        output.WriteLine($"all three killed and restarted: every group exact after {all.Elapsed.TotalSeconds:0.0} s");

        await AssertListedEverywhereAsync(cluster, groups, cluster.Size);
        // Their leaders changed with every kill; each new leader's log starts where the checkpoint left it (or later).
        var after = new Dictionary<int, long>();
        await ThreeNodeCluster.Eventually(async () =>
        {
            after = await TrimmedAsync(cluster);
            return trimmed.All(t => after.GetValueOrDefault(t.Key) >= t.Value);
        }, TimeSpan.FromSeconds(30), $"the checkpointed {OffsetsTopic} partitions to start where they did before the kills, or later ({string.Join(", ", trimmed)})");
        output.WriteLine($"after the kills: {string.Join(", ", after.Select(t => $"{OffsetsTopic}/{t.Key} starts at {t.Value}"))}");
    }

    /// <summary>The __consumer_offsets partitions whose log start has moved (group checkpoints), with their log start; waits up to 30 s for one.</summary>
    private static async Task<Dictionary<int, long>> TrimmedAsync(ThreeNodeCluster cluster)
    {
        var trimmed = new Dictionary<int, long>();
        await ThreeNodeCluster.Eventually(async () =>
        {
            var described = await cluster.DescribeAsync(OffsetsTopic);
            trimmed = described.Partitions.Where(p => p.LogStartOffset > 0).ToDictionary(p => p.Partition, p => p.LogStartOffset);
            return trimmed.Count > 0;
        }, TimeSpan.FromSeconds(30), $"a {OffsetsTopic} partition checkpointed");
        return trimmed;
    }

    /// <summary>
    /// A node joining keeps every group exact and lists them all. The fourth node is not one of the three voters: it
    /// observes the metadata quorum.
    /// </summary>
    [Fact]
    public async Task A_fourth_node_joining_sees_every_group_and_their_exact_offsets()
    {
        const string topic = "orders";
        var groups = Enumerable.Range(1, 12).Select(i => $"g{i}").ToArray();
        await using var cluster = new ThreeNodeCluster(spares: 1);
        await cluster.StartAsync();
        await cluster.CreateTopicAsync(topic, 6, replicas: 3, minInsyncReplicas: 2);
        var expected = new Dictionary<string, Dictionary<int, long>>();
        await using (var admin = cluster.Admin())
        {
            foreach (var (group, g) in groups.Select((group, g) => (group, g)))
            {
                var offsets = Enumerable.Range(0, 6).Select(p => new TopicPartitionOffset(topic, p, (g * 10) + p)).ToList();
                await RetryAsync(() => admin.SetGroupOffsetsAsync(group, offsets), $"commit of {group}");
                expected[group] = offsets.ToDictionary(o => o.Partition, o => o.Offset);
            }
        }
        await cluster.StartNodeAsync(3);
        await cluster.WaitForMembersAsync(4, Wait);
        await CheckAsync(output, cluster, groups, expected, "a fourth node joined", nodes: 4);
        await AssertListedEverywhereAsync(cluster, groups, 4);
    }

    /// <summary>`groups list` asked of each of the first <paramref name="nodes"/> nodes lists exactly these groups.</summary>
    private static async Task AssertListedEverywhereAsync(ThreeNodeCluster cluster, string[] groups, int nodes)
    {
        for (var i = 0; i < nodes; i++)
        {
            await using var admin = new AdminClient(new ClientConfig { BootstrapServers = cluster.BootstrapIn(i), RequestTimeout = TimeSpan.FromSeconds(10) });
            IReadOnlyList<GroupListing> listed = [];
            await ThreeNodeCluster.Eventually(async () => (listed = await admin.ListGroupsAsync()).Count == groups.Length, Wait, $"node {i} lists every group");
            Assert.Equal(groups.OrderBy(g => g, StringComparer.Ordinal), listed.Select(l => l.GroupId));
        }
    }

    /// <summary>Every group, asked through every running node, has exactly the expected offsets; a read may fail while a coordinator moves, never differ.</summary>
    private static async Task CheckAsync(ITestOutputHelper output, ThreeNodeCluster cluster, string[] groups, Dictionary<string, Dictionary<int, long>> expected, string step, int nodes = 3)
    {
        for (var i = 0; i < nodes; i++)
        {
            if (!cluster.IsRunning(i)) continue;
            await using var admin = new AdminClient(new ClientConfig { BootstrapServers = cluster.BootstrapIn(i), RequestTimeout = TimeSpan.FromSeconds(10) });
            foreach (var group in groups)
            {
                Dictionary<int, long>? committed = null;
                try
                {
                    await ThreeNodeCluster.Eventually(async () => (committed = await CommittedAsync(admin, group)) is not null, Wait, $"{group} readable through node {i} ({step})");
                }
                catch (TimeoutException)
                {
                    PrintPartitionLog(output, cluster, OffsetsPartitionOf(group), nodes);
                    throw;
                }
                Assert.True(expected[group].OrderBy(kv => kv.Key).SequenceEqual(committed!.OrderBy(kv => kv.Key)),
                    $"{step}: {group} through node {i} has offsets [{string.Join(", ", committed!.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}:{kv.Value}"))}], expected [{string.Join(", ", expected[group].OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}:{kv.Value}"))}]");
            }
        }
    }

    /// <summary>What the running nodes logged about a __consumer_offsets partition (its leadership and its coordinators).</summary>
    private static void PrintPartitionLog(ITestOutputHelper output, ThreeNodeCluster cluster, int partition, int nodes)
    {
        var name = $"{OffsetsTopic}/{partition}";
        for (var i = 0; i < nodes; i++)
        {
            if (!cluster.IsRunning(i)) continue;
            foreach (var line in cluster.Node(i).Output.Split('\n').Where(l => l.Contains(name, StringComparison.Ordinal)).TakeLast(25))
                output.WriteLine($"node {i}: {line}");
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
        const string group = "workers";
        await using var cluster = await StartWithTopicAsync();
        var run = new GroupRun(cluster, group);
        var consumers = Enumerable.Range(0, 3).Select(i => Task.Factory.StartNew(() =>
        {
            using var consumer = new Consumer(new ConsumerConfig
            {
                BootstrapServers = cluster.Bootstrap, GroupId = group, ClientId = $"c{i}", AutoOffsetReset = AutoOffsetReset.Earliest,
                SessionTimeoutMs = 10_000, HeartbeatIntervalMs = 1_000, AutoCommitIntervalMs = 500, RequestTimeout = TimeSpan.FromSeconds(5),
            });
            consumer.Subscribe(Topic);
            while (!run.Done)
            {
                try
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } record) run.Read(record.Partition, record.Offset);
                }
                catch (BrokerException)
                {
                    // a request failed while a node died: the consumer carries on
                }
            }
            consumer.Close();
        }, TaskCreationOptions.LongRunning)).ToArray();
        await run.KillCoordinatorAndCheckAsync(consumers, output);
    }

    [Fact]
    public async Task Kafka_consumers_in_a_group_follow_their_coordinator_when_its_node_is_killed()
    {
        const string group = "kafka-workers";
        await using var cluster = await StartWithTopicAsync();
        var kafkaBootstrap = string.Join(",", Enumerable.Range(0, cluster.Size).Select(i => cluster.Node(i).KafkaBootstrap));
        var run = new GroupRun(cluster, group);
        var consumers = Enumerable.Range(0, 3).Select(i => Task.Factory.StartNew(() =>
        {
            using var consumer = new Confluent.Kafka.ConsumerBuilder<Confluent.Kafka.Ignore, string>(new Confluent.Kafka.ConsumerConfig
            {
                BootstrapServers = kafkaBootstrap, GroupId = group, ClientId = $"k{i}", AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest,
                EnableAutoCommit = true, AutoCommitIntervalMs = 500, SessionTimeoutMs = 10_000, HeartbeatIntervalMs = 1_000,
            }).Build();
            consumer.Subscribe(Topic);
            while (!run.Done)
            {
                try
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } record) run.Read(record.Partition.Value, record.Offset.Value);
                }
                catch (Confluent.Kafka.ConsumeException)
                {
                    // librdkafka reports what it retries by itself
                }
            }
            consumer.Close();
        }, TaskCreationOptions.LongRunning)).ToArray();
        await run.KillCoordinatorAndCheckAsync(consumers, output);
    }

    private const string Topic = "events";
    private const int Partitions = 6;

    private static async Task<ThreeNodeCluster> StartWithTopicAsync()
    {
        var cluster = new ThreeNodeCluster();
        await cluster.StartAsync();
        await cluster.CreateTopicAsync(Topic, Partitions, replicas: 3, minInsyncReplicas: 2);
        await cluster.WaitForIsrAsync(Topic, 3, Wait);
        return cluster;
    }

    /// <summary>
    /// One run of issue 14's first two checks: idempotent acks=all writers load the topic while a group reads it; the
    /// group's committed offsets are sampled every 200 ms (none may go backwards); the node leading the group's
    /// __consumer_offsets partition is SIGKILLed and later restarted. Every acknowledged record must be read, the lag
    /// must reach 0, and records read twice are reported against what was read but not committed at the kill.
    /// </summary>
    private sealed class GroupRun(ThreeNodeCluster cluster, string group)
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly AckChecker _checker = new(Partitions);
        private readonly ConcurrentDictionary<(int Partition, long Offset), int> _reads = new();
        private readonly long[] _readEnds = new long[Partitions];
        private readonly ConcurrentQueue<string> _backwards = new();
        private readonly object _gate = new();
        private long _lastRead = Environment.TickCount64, _longestPause, _pauseEndedAt;
        private long _killedAt; // Environment.TickCount64 at the kill; 0 before it
        private volatile bool _done;

        /// <summary>True once the writers stopped and the group committed everything acknowledged (lag 0): consumers may close.</summary>
        public bool Done => _done;

        public void Read(int partition, long offset)
        {
            _reads.AddOrUpdate((partition, offset), 1, (_, n) => n + 1);
            lock (_gate)
            {
                _readEnds[partition] = Math.Max(_readEnds[partition], offset + 1);
                var now = Environment.TickCount64;
                if (now - _lastRead > _longestPause)
                {
                    _longestPause = now - _lastRead;
                    _pauseEndedAt = now;
                }
                _lastRead = now;
            }
        }

        public async Task KillCoordinatorAndCheckAsync(Task[] consumers, ITestOutputHelper output)
        {
            var writing = Task.Run(() => AckedWriters.RunAsync(_checker, cluster.Bootstrap, Topic, Acks.All, _stop.Token, inFlight: 8));
            var sampling = Task.Run(SampleAsync);
            await ThreeNodeCluster.Eventually(() => Task.FromResult(_reads.Count > 3_000), Wait, "the group consuming");
            await using (var admin = cluster.Admin())
                await ThreeNodeCluster.Eventually(async () => (await admin.DescribeGroupAsync(group)).Members.Count == consumers.Length, Wait, "every consumer a member");
            var coordinator = await CoordinatorIndexAsync(cluster, group);
            DescribeGroupResponse before;
            await using (var admin = cluster.Admin()) before = await admin.DescribeGroupAsync(group);
            long bound;
            lock (_gate)
            {
                bound = Enumerable.Range(0, Partitions).Sum(p => Math.Max(0, _readEnds[p] - (before.Offsets.FirstOrDefault(o => o.Partition == p)?.Offset ?? 0)));
                _longestPause = 0;
                _lastRead = Environment.TickCount64;
            }
            var killedAt = Environment.TickCount64;
            Volatile.Write(ref _killedAt, killedAt);
            cluster.Kill(coordinator);
            output.WriteLine($"killed node {cluster.NodeIdOf(coordinator)}, leader of {OffsetsTopic}/{OffsetsPartitionOf(group)}, at {DateTime.UtcNow:HH:mm:ss.fff} UTC; read but not committed at the kill: {bound} records");

            await Task.Delay(TimeSpan.FromSeconds(20));
            await cluster.WaitForKilledNodesRemovedAsync();
            await cluster.StartNodeAsync(coordinator);
            await cluster.WaitForMembersAsync(3, Wait);
            await Task.Delay(TimeSpan.FromSeconds(10));
            _stop.Cancel();
            await writing;
            DescribeGroupResponse after;
            await using (var admin = cluster.Admin())
            {
                // The consumers keep reading and auto-committing until the group has committed everything acknowledged.
                await ThreeNodeCluster.Eventually(async () =>
                {
                    var committed = await CommittedAsync(admin, group);
                    return _checker.AcknowledgedEnds().Select((end, p) => committed.GetValueOrDefault(p) >= end).All(x => x);
                }, Wait, "the group's lag at 0");
                after = await admin.DescribeGroupAsync(group);
            }
            _done = true;
            await Task.WhenAll(consumers).WaitAsync(Wait);
            await sampling;
            var missing = _checker.AcknowledgedOffsets.Where(a => !_reads.ContainsKey(a)).ToList();
            var duplicates = _reads.Values.Sum(n => n - 1);
            output.WriteLine($"acknowledged {_checker.AckCount} records, read {_reads.Count} distinct, {duplicates} read twice or more (bound: {bound}); generation "
                + $"{before.GenerationId} -> {after.GenerationId}; longest pause in consumption after the kill {_longestPause} ms (ended {_pauseEndedAt - killedAt} ms after the kill); lag 0");
            Assert.True(missing.Count == 0, $"{missing.Count} acknowledged records never consumed, e.g. {string.Join(", ", missing.Take(5))}");
            Assert.True(_backwards.IsEmpty, $"committed offsets went backwards: {string.Join("; ", _backwards.Take(5))}");
            Assert.Empty(_checker.Conflicts);
            if (after.GenerationId == before.GenerationId) Assert.True(duplicates <= bound, $"{duplicates} records read twice, more than the {bound} read but not committed at the kill");
        }

        private string SinceKill() => Volatile.Read(ref _killedAt) is var at && at == 0 ? "before the kill" : $"{Environment.TickCount64 - at} ms after the kill";

        private async Task SampleAsync()
        {
            var highest = new Dictionary<int, (long Offset, int Generation)>();
            await using var admin = cluster.Admin();
            while (!_done)
            {
                try
                {
                    var described = await admin.DescribeGroupAsync(group);
                    foreach (var o in described.Offsets)
                    {
                        if (highest.TryGetValue(o.Partition, out var seen) && o.Offset < seen.Offset)
                            _backwards.Enqueue($"{Topic}/{o.Partition}: {seen.Offset} (seen in generation {seen.Generation}) -> {o.Offset} (generation {described.GenerationId}) at {DateTime.UtcNow:HH:mm:ss.fff} UTC ({SinceKill()})");
                        if (!highest.TryGetValue(o.Partition, out var before) || o.Offset > before.Offset) highest[o.Partition] = (o.Offset, described.GenerationId);
                    }
                }
                catch (BrokerException)
                {
                    // the coordinator is moving: no answer is not a wrong answer
                }
                await Task.Delay(200);
            }
        }
    }
}
