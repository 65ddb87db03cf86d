using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Broker.Client;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// The node-wide cap on replication bytes in flight toward a follower node (Partitions/ReplicationBudget.cs) on three
/// node processes: a node restarted after a backlog was written on many partitions catches up completely under a small
/// cap (1 MiB, below one 4 MiB fetch answer), and every record is in its own copy, read back through it (KIP-392,
/// each node in its own rack). The heartbeat delays the nodes logged during the catch-up are printed, not asserted
/// (they depend on the machine): with BROKER_CATCHUP_MB, BROKER_CATCHUP_PARTITIONS, BROKER_CATCHUP_CAP and, as root,
/// BROKER_CATCHUP_MBIT (a slower link toward the restarted node) the same test measures a large catch-up with and
/// without the cap (docs/architecture.md, "Replication traffic and heartbeats").
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class CatchUpBudgetTests : IAsyncLifetime
{
    private const string Topic = "backlog";
    private const int Behind = 2; // the node that is down while the backlog is written
    private const int ValueBytes = 4096;
    private static readonly int Megabytes = Setting("BROKER_CATCHUP_MB", 24);
    private static readonly int Partitions = Setting("BROKER_CATCHUP_PARTITIONS", 12);
    private static readonly long Cap = Setting("BROKER_CATCHUP_CAP", 1024 * 1024);

    // With BROKER_CATCHUP_MBIT (and root), the nodes run in their own network and the restarted node's link carries that
    // many megabits per second toward it: on loopback the link is never the bottleneck, so nothing queues ahead of heartbeats.
    private static readonly int LinkMbit = Setting("BROKER_CATCHUP_MBIT", 0);
    private readonly NetworkLab? _network = LinkMbit > 0 && NetworkLab.Available ? new NetworkLab(3) : null;
    private readonly ThreeNodeCluster _cluster;

    public CatchUpBudgetTests(ITestOutputHelper output)
    {
        _output = output;
        _cluster = new(racks: true, network: _network, nodeConfig: $"broker.replication.max-bytes-in-flight-per-node = {Cap}");
    }

    private readonly ITestOutputHelper _output;

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;

    public Task InitializeAsync() => _cluster.StartAsync();

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _network?.Dispose();
    }

    [Fact]
    public async Task A_node_restarted_behind_a_backlog_on_many_partitions_catches_up_completely_under_a_small_cap()
    {
        await _cluster.CreateTopicAsync(Topic, Partitions, 3, minInsyncReplicas: 2);
        await _cluster.WaitForIsrAsync(Topic, 3, TimeSpan.FromSeconds(90));
        _cluster.Kill(Behind);
        await _cluster.WaitForKilledNodesRemovedAsync();
        await _cluster.WaitForIsrAsync(Topic, 2, TimeSpan.FromSeconds(60));

        // The backlog: acks=all, so every record is committed on the two running nodes before the third returns.
        var written = new Dictionary<long, int>[Partitions];
        for (var p = 0; p < Partitions; p++) written[p] = new();
        var records = (int)((long)Megabytes * 1024 * 1024 / ValueBytes);
        var clock = Stopwatch.StartNew();
        await using (var producer = new Producer(new ProducerConfig
        {
            BootstrapServers = _cluster.BootstrapIn(0, 1), Acks = Acks.All, LingerMs = 10, BatchSize = 256 * 1024, ClientHost = _cluster.ClientHost,
        }))
        {
            async Task Send(int n)
            {
                var p = n % Partitions;
                var r = await producer.ProduceAsync(Topic, p, new Message { Value = Value(p, n) });
                lock (written) written[p][r.Offset] = n;
            }
            await Send(0); // the producer connects and learns the topic once, not once per concurrent send
            const int window = 512;
            for (var start = 1; start < records; start += window)
            {
                var sends = new List<Task>(window);
                for (var n = start; n < Math.Min(records, start + window); n++) sends.Add(Send(n));
                await Task.WhenAll(sends);
            }
        }
        _output.WriteLine($"backlog: {records} records of {ValueBytes} bytes ({Megabytes} MiB) on {Partitions} partitions in {clock.ElapsedMilliseconds} ms; cap {Cap} bytes per node");

        var logged = new int[3];
        for (var i = 0; i < 2; i++) logged[i] = _cluster.Node(i).Output.Length;
        if (_network is not null)
        {
            _network.LimitRateTo(Behind, LinkMbit);
            _output.WriteLine($"the restarted node's link: {LinkMbit} Mbit/s toward it");
        }
        clock.Restart();
        await _cluster.StartNodeAsync(Behind);
        await _cluster.WaitForIsrAsync(Topic, 3, TimeSpan.FromMinutes(5));
        _output.WriteLine($"node {_cluster.NodeIdOf(Behind)} restarted and back in every ISR after {clock.ElapsedMilliseconds} ms");
        for (var i = 0; i < 3; i++) Report(i, _cluster.Node(i).Output[logged[i]..]);
        var throttled = 0.0;
        using (var http = new HttpClient())
        {
            for (var i = 0; i < 2; i++)
            {
                var metrics = await http.GetStringAsync($"{_cluster.HttpBase(i)}/metrics");
                var (trimmed, parked) = (Counter(metrics, "broker_replica_fetches_trimmed_total"), Counter(metrics, "broker_replica_fetches_parked_total"));
                _output.WriteLine($"node index {i}: {trimmed} follower fetch answers trimmed, {parked} parked");
                throttled += trimmed + parked;
            }
        }
        // Each partition's backlog is larger than the cap, so its first answer at least was trimmed: the cap was in play.
        if (Cap < (long)Megabytes * 1024 * 1024 / Partitions) Assert.True(throttled > 0, "no follower fetch was trimmed or parked");

        // Its own copy, read through it: a consumer in its rack reads from its replica (or from it as leader).
        var read = new Dictionary<long, byte[]>[Partitions];
        for (var p = 0; p < Partitions; p++) read[p] = new();
        using (var consumer = new Consumer(new ConsumerConfig
        {
            BootstrapServers = _cluster.BootstrapIn(Behind), ClientRack = ThreeNodeCluster.RackOf(Behind), FetchMaxWaitMs = 100, ClientHost = _cluster.ClientHost,
        }))
        {
            consumer.Assign([.. Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(Topic, p, 0))]);
            var deadline = Stopwatch.StartNew();
            var count = 0;
            while (count < records && deadline.Elapsed < TimeSpan.FromMinutes(3))
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { } r) continue;
                if (read[r.Partition].TryAdd(r.Offset, r.Value!)) count++;
            }
        }
        for (var p = 0; p < Partitions; p++)
        {
            Assert.Equal(written[p].Count, read[p].Count);
            foreach (var (offset, n) in written[p])
            {
                Assert.True(read[p].TryGetValue(offset, out var value), $"partition {p} offset {offset} missing on the restarted node");
                Assert.True(value.AsSpan().SequenceEqual(Value(p, n)), $"partition {p} offset {offset} differs on the restarted node");
            }
        }
    }

    private static double Counter(string metrics, string name) =>
        Regex.Match(metrics, $"^{name} (\\S+)$", RegexOptions.Multiline) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

    /// <summary>Record <paramref name="n"/> of partition <paramref name="p"/>: its name, then bytes that depend on it.</summary>
    private static byte[] Value(int p, int n)
    {
        var value = new byte[ValueBytes];
        var name = Encoding.ASCII.GetBytes($"{p}:{n}:");
        name.CopyTo(value, 0);
        for (var i = name.Length; i < value.Length; i++) value[i] = (byte)(n * 31 + i);
        return value;
    }

    /// <summary>What a node logged about heartbeats during the catch-up: the largest interval and unreachable marks.</summary>
    private void Report(int index, string log)
    {
        var largest = 0;
        var warnings = 0;
        foreach (Match m in GrowingInterval().Matches(log))
        {
            warnings++;
            largest = Math.Max(largest, int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        }
        var unreachable = Regex.Count(log, "Marking node\\(s\\) as UNREACHABLE|Marking node as \\[UNREACHABLE\\]");
        var delayed = Regex.Count(log, "Scheduled sending of heartbeat was delayed");
        _output.WriteLine($"node index {index}: {warnings} 'heartbeat interval is growing too large' (largest {largest} ms), {unreachable} unreachable marks, {delayed} delayed heartbeat sends");
    }

    [GeneratedRegex("heartbeat interval is growing too large for address \\S+: (\\d+) millis")]
    private static partial Regex GrowingInterval();
}
