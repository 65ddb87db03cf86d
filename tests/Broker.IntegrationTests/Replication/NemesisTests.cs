using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Broker.Client;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// A nemesis in the style of Jepsen's Kafka tests (issue 18): idempotent acks=all producers and a tailing consumer
/// on a cluster (RF 3, min.insync.replicas 2) while each round a fault chosen at random hits it: a SIGKILL and a
/// restart, a SIGSTOP long or short (a node downed meanwhile restarts itself in process), or a full-cluster SIGKILL
/// restarted in a random order, half the time with one node alone first for 20 s, or a node's disk wiped (it comes
/// back empty under its own node id, the voter it was: it leaves every ISR before it runs a replica, and catches up), or a
/// network cut of one node (sometimes while another flaps, which held up Akka's split-brain resolver). Then the checker reports lost
/// acknowledged writes, offsets acknowledged for two records, values stored twice, records a consumer saw that the
/// final log does not hold, and reads that went backwards within a partition; and how long each heal took until
/// every partition acknowledged again.
/// The metadata is decided by the metadata quorum (every node a voter). A short run is part of the suite
/// (BROKER_NEMESIS_MINUTES, default 1.5); longer ones, and 5 nodes (BROKER_NEMESIS_NODES=5), are opt-in:
/// BROKER_NEMESIS_MINUTES=30 dotnet test tests/Broker.IntegrationTests -c Release --filter Nemesis (BROKER_NEMESIS_WIPE=0: no wiped disks).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class NemesisTests : IAsyncLifetime
{
    private readonly ITestOutputHelper _output;

    public NemesisTests(ITestOutputHelper output)
    {
        _output = output;
        _cluster = new ThreeNodeCluster(size: Nodes, network: _network);
    }

    private const string Topic = "nemesis";
    private const int Partitions = 6;
    private static readonly TimeSpan LoneStart = TimeSpan.FromSeconds(20);
    private static readonly int Nodes = Setting("BROKER_NEMESIS_NODES", 3);
    // Network cuts need a network of the test's own (namespaces, as root); BROKER_NEMESIS_CUTS=0 turns them off.
    private readonly NetworkLab? _network = NetworkLab.Available && Environment.GetEnvironmentVariable("BROKER_NEMESIS_CUTS") != "0" ? new NetworkLab(Nodes) : null;
    private readonly ThreeNodeCluster _cluster;
    private readonly AckChecker _checker = new(Partitions);
    private readonly ConcurrentDictionary<(int Partition, long Offset), string> _seen = new();
    private readonly ConcurrentQueue<string> _seenConflicts = new();
    private readonly ConcurrentQueue<string> _backwardReads = new();
    private readonly Random _random = new(Setting("BROKER_NEMESIS_SEED", Environment.TickCount));

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var value) ? value : fallback;

    private static bool WipesDisks => Environment.GetEnvironmentVariable("BROKER_NEMESIS_WIPE") != "0";

    private static double Minutes =>
        double.TryParse(Environment.GetEnvironmentVariable("BROKER_NEMESIS_MINUTES"), System.Globalization.CultureInfo.InvariantCulture, out var m) ? m : 1.5;

    public Task InitializeAsync() => _cluster.StartAsync();

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _network?.Dispose();
    }

    [Fact(Timeout = 0)]
    public async Task Kills_pauses_and_full_restarts_in_any_order_lose_nothing_acknowledged()
    {
        await _cluster.CreateTopicAsync(Topic, Partitions, 3, minInsyncReplicas: 2);
        using var stop = new CancellationTokenSource();
        var producers = Enumerable.Range(0, 2).Select(w => Task.Run(() => ProduceAsync(w, stop.Token))).ToArray();
        var consumer = Task.Run(() => TailAsync(stop.Token));
        await ThreeNodeCluster.Eventually(() => Task.FromResult(_checker.AckCount >= 2_000), TimeSpan.FromSeconds(60), "the first 2,000 acknowledgements");

        var clock = Stopwatch.StartNew();
        var heals = new List<(string Fault, long Millis)>();
        while (clock.Elapsed < TimeSpan.FromMinutes(Minutes))
        {
            var faultStarted = DateTime.UtcNow;
            string fault;
            try
            {
                fault = _random.Next(6) switch
                {
                    0 => await KillAndRestartAsync(),
                    1 => await PauseAsync(TimeSpan.FromSeconds(2 + _random.Next(4))),   // shorter than a downing
                    2 => await PauseAsync(TimeSpan.FromSeconds(10 + _random.Next(10))), // long enough to be downed
                    3 when WipesDisks => await WipeAndRestartAsync(),
                    4 when _network is not null => _random.Next(4) == 0 ? await CutWhileAnotherFlapsAsync() : await CutAsync(TimeSpan.FromSeconds(3 + _random.Next(15))),
                    _ => await FullRestartAsync(loneFirst: _random.Next(2) == 0),
                };
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
            {
                // e.g. the survivors never removed a killed node: what they logged says why
                _output.WriteLine($"{clock.Elapsed:mm\\:ss} a fault did not complete: {ex.Message}");
                PrintNodeLogs();
                throw;
            }
            var healedAt = Environment.TickCount64;
            try
            {
                await _cluster.WaitForMembersAsync(_cluster.Size, TimeSpan.FromSeconds(120));
                await ThreeNodeCluster.Eventually(() => Task.FromResult(Enumerable.Range(0, Partitions).All(p => _checker.FirstAckOfSendAfter(p, healedAt) is not null)),
                    TimeSpan.FromSeconds(120), $"every partition acknowledging again after: {fault}");
            }
            catch (TimeoutException)
            {
                var silent = Enumerable.Range(0, Partitions).Where(p => _checker.FirstAckOfSendAfter(p, healedAt) is null);
                _output.WriteLine($"{clock.Elapsed:mm\\:ss} {fault}; NOT healed: partitions [{string.Join(",", silent)}] acknowledge nothing; {_checker.FailureCount} sends failed");
                PrintNodeLogs();
                throw;
            }
            var millis = Enumerable.Range(0, Partitions).Max(p => _checker.FirstAckOfSendAfter(p, healedAt)!.Value - healedAt);
            heals.Add((fault, millis));
            _output.WriteLine($"{clock.Elapsed:mm\\:ss} {fault}; healed, every partition acknowledging within {millis} ms; {_checker.AckCount} acknowledged, {_checker.FailureCount} sends failed{Stalls(faultStarted)}");
        }

        await stop.CancelAsync();
        await Task.WhenAll(producers);
        await consumer;
        var result = await _checker.ReadBackAsync(_cluster.Bootstrap, Topic, TimeSpan.FromMinutes(3), _cluster.ClientHost);
        var finalLog = await LogReader.ReadAllAsync(_cluster.Bootstrap, Topic, Partitions, TimeSpan.FromMinutes(3), _cluster.ClientHost);
        var truncatedReads = _seen.Where(kv => !finalLog.TryGetValue(kv.Key, out var v) || v != kv.Value)
            .Select(kv => $"{kv.Key.Partition}@{kv.Key.Offset} '{kv.Value}'").ToList();
        _output.WriteLine($"nemesis on {_cluster.Size} nodes ({(_network is null ? "no network cuts: not root, or BROKER_NEMESIS_CUTS=0" : "with network cuts")}), {clock.Elapsed:mm\\:ss}, {heals.Count} faults: {result}; consumers saw {_seen.Count} records, "
            + $"{truncatedReads.Count} later truncated, {_seenConflicts.Count} offsets seen with two values, {_backwardReads.Count} backward reads; "
            + $"{_checker.FailureCount} sends failed; slowest heal {(heals.Count == 0 ? 0 : heals.Max(h => h.Millis))} ms");
        Assert.Empty(result.Lost);
        Assert.Empty(result.Conflicts);
        Assert.Empty(result.Duplicates);
        Assert.Empty(truncatedReads);
        Assert.Empty(_seenConflicts);
        Assert.Empty(_backwardReads);
    }

    /// <summary>
    /// Node processes that stalled for over 5 s since <paramref name="since"/> by their own account (Akka logs a heartbeat
    /// sent late), so that a slow heal can be told apart: a SIGSTOPped victim stalls by design; any other stall is the
    /// host's (a loaded machine starving a process), a fault the nemesis did not choose.
    /// </summary>
    private string Stalls(DateTime since)
    {
        var stalls = new List<string>();
        for (var i = 0; i < _cluster.Size; i++)
        {
            if (!_cluster.IsRunning(i)) continue;
            foreach (System.Text.RegularExpressions.Match m in StallLine().Matches(_cluster.Node(i).Output))
            {
                var at = DateTime.ParseExact(m.Groups[1].Value, "MM/dd/yyyy HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);
                var millis = double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
                if (at >= since && millis >= 5000) stalls.Add($"index {i} {millis / 1000:0.0} s (until {at:HH:mm:ss})");
            }
        }
        return stalls.Count == 0 ? "" : $"; processes stalled: {string.Join(", ", stalls)}";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\[(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\.\d{3})Z\][^\n]*Previous heartbeat was sent \[([\d.]+)\] ms ago")]
    private static partial System.Text.RegularExpressions.Regex StallLine();

    /// <summary>What each running node logged last, for a heal that did not come.</summary>
    private void PrintNodeLogs()
    {
        for (var i = 0; i < _cluster.Size; i++)
        {
            if (!_cluster.IsRunning(i)) continue;
            var lines = _cluster.Node(i).Output.Split('\n');
            _output.WriteLine($"---- node index {i}, last {Math.Min(80, lines.Length)} of {lines.Length} lines ----");
            foreach (var line in lines.TakeLast(80)) _output.WriteLine(line[..Math.Min(line.Length, 300)]);
        }
    }

    private async Task<string> KillAndRestartAsync()
    {
        var victim = _random.Next(_cluster.Size);
        _cluster.Kill(victim);
        await Task.Delay(TimeSpan.FromSeconds(3 + _random.Next(10))); // the fault's duration
        await _cluster.WaitForKilledNodesRemovedAsync();
        await _cluster.StartNodeAsync(victim);
        return $"SIGKILL node index {victim}, restarted";
    }

    /// <summary>
    /// A node's disk is lost: it comes back empty under its own node id (the voter it was). Before it runs a replica it
    /// leaves every ISR (the metadata still counts it in sync), so it can never lead with its empty log; it rejoins each
    /// ISR by catching up. (Before the quorum, a wiped node came back as a new node and --replace-node moved its replicas.)
    /// </summary>
    private async Task<string> WipeAndRestartAsync()
    {
        var victim = _random.Next(_cluster.Size);
        var id = _cluster.NodeIdOf(victim);
        _cluster.Kill(victim);
        await _cluster.WaitForKilledNodesRemovedAsync();
        _cluster.WipeDataDirectory(victim);
        await _cluster.StartNodeAsync(victim);
        Assert.Equal(id, _cluster.NodeIdOf(victim));
        return $"node index {victim} wiped and restarted empty as node {id}";
    }

    /// <summary>Cuts one node off the network (it runs on, unreachable, and is downed if the cut is long), then heals it.</summary>
    private async Task<string> CutAsync(TimeSpan cut)
    {
        var victim = _random.Next(_cluster.Size);
        _network!.Cut(victim);
        try
        {
            await Task.Delay(cut); // the fault's duration
        }
        finally
        {
            _network.Heal(victim);
        }
        return $"network cut of node index {victim} for {cut.TotalSeconds:0} s";
    }

    /// <summary>
    /// One node cut off for 20 s while another flaps (SIGSTOPped 4.5 s, running 2 s, over and over): Akka's split-brain
    /// resolver reset its stable-after on every change and downed nobody; the quorum's downing (QuorumDowning) keeps a
    /// clock per member, so the controller downs the cut node while the fault lasts. Says whether it did.
    /// </summary>
    private async Task<string> CutWhileAnotherFlapsAsync()
    {
        var victim = _random.Next(_cluster.Size);
        var flapper = (victim + 1 + _random.Next(_cluster.Size - 1)) % _cluster.Size;
        var node = _cluster.Node(flapper);
        var bounded = new TaskCompletionSource();
        var started = DateTime.UtcNow;
        _network!.Cut(victim);
        var clock = Stopwatch.StartNew();
        try
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                node.Pause();
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(4.5)); // the fault's rhythm
                }
                finally
                {
                    node.Resume();
                }
                await Task.Delay(TimeSpan.FromSeconds(2));
            }
        }
        finally
        {
            _network.Heal(victim);
        }
        var downedBy = Enumerable.Range(0, _cluster.Size).Where(i => i != victim && _cluster.IsRunning(i))
            .FirstOrDefault(i => BoundLine().Matches(_cluster.Node(i).Output).Any(m =>
                DateTime.ParseExact(m.Groups[1].Value, "MM/dd/yyyy HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture) >= started), -1);
        return $"network cut of node index {victim} for {clock.Elapsed.TotalSeconds:0} s while node index {flapper} flapped (SIGSTOP 4.5 s, run 2 s); "
            + (downedBy < 0 ? "no controller downed it" : $"node index {downedBy}, the controller, downed it");
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\[(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\.\d{3})Z\][^\n]*downing it as the metadata quorum's controller")]
    private static partial System.Text.RegularExpressions.Regex BoundLine();

    private async Task<string> PauseAsync(TimeSpan pause)
    {
        var victim = _random.Next(_cluster.Size);
        var node = _cluster.Node(victim);
        node.Pause();
        try
        {
            await Task.Delay(pause); // the fault's duration
        }
        finally
        {
            node.Resume();
        }
        return $"SIGSTOP node index {victim} for {pause.TotalSeconds:0} s";
    }

    private async Task<string> FullRestartAsync(bool loneFirst)
    {
        var order = Enumerable.Range(0, _cluster.Size).OrderBy(_ => _random.Next()).ToArray();
        for (var i = 0; i < _cluster.Size; i++) _cluster.Kill(i);
        await _cluster.StartWaitingNodeAsync(order[0]);
        if (loneFirst) await Task.Delay(LoneStart); // the fault: one node alone, from its own copy of the metadata
        foreach (var index in order.Skip(1)) await _cluster.StartWaitingNodeAsync(index);
        return $"full SIGKILL, restarted in order [{string.Join(",", order)}]" + (loneFirst ? $", the first alone for {LoneStart.TotalSeconds:0} s" : "");
    }

    private async Task ProduceAsync(int writer, CancellationToken stop)
    {
        await using var producer = new Producer(new ProducerConfig { BootstrapServers = _cluster.Bootstrap, Acks = Acks.All, LingerMs = 2, RequestTimeout = TimeSpan.FromSeconds(3), ClientHost = _cluster.ClientHost });
        var sequence = 0;
        while (!stop.IsCancellationRequested)
        {
            var sends = new Task[64];
            for (var i = 0; i < sends.Length; i++)
            {
                var value = $"w{writer}-{sequence++}";
                sends[i] = SendAsync(producer, value);
            }
            await Task.WhenAll(sends);
        }
    }

    private async Task SendAsync(Producer producer, string value)
    {
        var sentAt = Environment.TickCount64;
        try
        {
            var result = await producer.ProduceAsync(Topic, new Message { Key = Encoding.UTF8.GetBytes(value), Value = Encoding.UTF8.GetBytes(value) });
            _checker.Acknowledged(result.Partition, result.Offset, value, sentAt);
        }
        catch (BrokerException)
        {
            _checker.Failed();
            await Task.Delay(100);
        }
    }

    /// <summary>A consumer tailing every partition: anything it sees must still be there, unchanged, at the end, and offsets only grow.</summary>
    private async Task TailAsync(CancellationToken stop)
    {
        await Task.Yield();
        var last = new long[Partitions];
        Array.Fill(last, -1);
        using var consumer = new Consumer(new ConsumerConfig { BootstrapServers = _cluster.Bootstrap, FetchMaxWaitMs = 200, ClientHost = _cluster.ClientHost });
        consumer.Assign(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(Topic, p, Offset.Beginning)).ToList());
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is not { } r) continue;
                var value = Encoding.UTF8.GetString(r.Value!);
                var stored = _seen.GetOrAdd((r.Partition, r.Offset), value);
                if (stored != value) _seenConflicts.Enqueue($"{r.Partition}@{r.Offset}: '{stored}' then '{value}'");
                if (r.Offset <= last[r.Partition]) _backwardReads.Enqueue($"{r.Partition}: offset {r.Offset} after {last[r.Partition]}");
                last[r.Partition] = r.Offset;
            }
            catch (BrokerException)
            {
                // a node is down: the consumer fetches again
            }
        }
    }
}
