using System.Diagnostics;
using Broker.Client;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// Issue 14, must-show 5: a node SIGKILLed and started again at once, as a process supervisor does (same address, same
/// data directory, well before the others have downed its dead incarnation), is serving and back in every ISR within
/// 20 s, five times in a row (each node in turn, the seed included), while acks=all producers write; at the end every
/// acknowledged record reads back.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RestartAtOnceTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "restarts";
    private const int Partitions = 6;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
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
    public async Task A_node_killed_and_restarted_at_once_is_back_in_every_ISR_within_20_s_five_times_in_a_row()
    {
        await _cluster.CreateTopicAsync(Topic, Partitions, 3, minInsyncReplicas: 2);
        await _cluster.WaitForIsrAsync(Topic, 3, TimeSpan.FromSeconds(60));
        var load = Task.Run(() => AckedWriters.RunAsync(_checker, _cluster.Bootstrap, Topic, Acks.All, _stop.Token, inFlight: 16));
        await ThreeNodeCluster.Eventually(() => Task.FromResult(_checker.AckCount >= 2_000), TimeSpan.FromSeconds(60), "2,000 acknowledgements");

        var took = new List<long>();
        for (var round = 0; round < 5; round++)
        {
            var index = (round + 1) % _cluster.Size; // 1, 2, 0 (the seed), 1, 2
            var nodeId = _cluster.NodeIdOf(index);
            var clock = Stopwatch.StartNew();
            _cluster.Kill(index); // returns once the process is gone
            var killedAt = Environment.TickCount64;
            await _cluster.StartNodeAsync(index); // returns when the node says it is ready (Up in the cluster)
            var restartedIn = clock.ElapsedMilliseconds;
            try
            {
                await ThreeNodeCluster.Eventually(async () =>
                {
                    var described = await _cluster.DescribeAsync(Topic);
                    return described.Partitions.All(p => p.LeaderId > 0 && p.Isr.Count == 3)
                        && Enumerable.Range(0, Partitions).All(p => _checker.FirstAckOfSendAfter(p, killedAt) is not null);
                }, Bound - clock.Elapsed, $"node {nodeId} back in every ISR and every partition acknowledging, within {Bound.TotalSeconds:0} s of its kill");
            }
            catch (TimeoutException)
            {
                PrintNodeLogs();
                throw;
            }
            took.Add(clock.ElapsedMilliseconds);
            output.WriteLine($"round {round + 1}: node {nodeId} (index {index}) SIGKILLed, ready again {restartedIn} ms after the kill, in every ISR after {clock.ElapsedMilliseconds} ms; {_checker.AckCount} acknowledged so far");
        }
        output.WriteLine($"kill to back in every ISR: {string.Join(", ", took)} ms (max {took.Max()} ms)");

        _stop.Cancel();
        await load;
        var result = await _checker.ReadBackAsync(_cluster.Bootstrap, Topic, TimeSpan.FromSeconds(120));
        output.WriteLine($"checker: {result}; {_checker.FailureCount} sends failed (not acknowledged, so allowed to be lost)");
        Assert.Empty(result.Conflicts);
        Assert.Empty(result.Lost);
    }

    private void PrintNodeLogs()
    {
        for (var i = 0; i < _cluster.Size; i++)
        {
            if (!_cluster.IsRunning(i)) continue;
            var lines = _cluster.Node(i).Output.Split('\n');
            output.WriteLine($"---- node index {i}, last {Math.Min(80, lines.Length)} of {lines.Length} lines ----");
            foreach (var line in lines.TakeLast(80)) output.WriteLine(line[..Math.Min(line.Length, 300)]);
        }
    }
}
