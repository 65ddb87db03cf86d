using Broker.Client;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// Issue 18, scenario 1: node A is down while the other two take acks=all writes (their ISRs drop A); the whole
/// cluster stops; A starts first and alone, from its stale metadata, for 20 s; then the others start. Before, A
/// elected itself while alone, its higher leader epochs won the metadata merge, and the others truncated every
/// record acknowledged while A was down. Now a node on a data directory that belonged to a cluster serves only with
/// a majority of that cluster: A waits, and every acknowledged record is read back.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class LoneStaleNodeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "stale";
    private const int Partitions = 6;
    private readonly ThreeNodeCluster _cluster = new();
    private readonly AckChecker _checker = new(Partitions);

    public Task InitializeAsync() => _cluster.StartAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync().AsTask();

    [Fact]
    public async Task A_node_that_was_down_and_restarts_first_and_alone_after_a_full_stop_loses_no_acknowledged_record()
    {
        await _cluster.CreateTopicAsync(Topic, Partitions, 3, minInsyncReplicas: 2);
        await _cluster.WaitForIsrAsync(Topic, 3, TimeSpan.FromSeconds(60));
        var stale = 0;
        var staleId = _cluster.NodeIdOf(stale);

        using (var stop = new CancellationTokenSource())
        {
            // A has part of the log, then misses the rest.
            var load = Task.Run(() => AckedWriters.RunAsync(_checker, _cluster.BootstrapIn(1, 2, 0), Topic, Acks.All, stop.Token));
            await ThreeNodeCluster.Eventually(() => Task.FromResult(_checker.AckCount >= 5_000), TimeSpan.FromSeconds(90), "5,000 acks=all acknowledgements on all three");
            _cluster.Kill(stale);
            var before = _checker.AckCount;
            await ThreeNodeCluster.Eventually(() => Task.FromResult(_checker.AckCount >= before + 20_000), TimeSpan.FromSeconds(120), "20,000 more acknowledgements without node A");
            await stop.CancelAsync();
            await load;
        }
        await _cluster.WaitForKilledNodesRemovedAsync();
        var topic = await _cluster.DescribeAsync(Topic);
        Assert.All(topic.Partitions, p => Assert.DoesNotContain(staleId, p.Isr));
        output.WriteLine($"{_checker.AckCount} acknowledged while node {staleId} was down; ISRs: {string.Join(" ", topic.Partitions.Select(p => $"[{string.Join(",", p.Isr)}]"))}");

        _cluster.Kill(1);
        _cluster.Kill(2);
        await _cluster.StartWaitingNodeAsync(stale);
        // Alone for 20 s (the fault being modelled, not a wait for something): it must neither be Up nor lead.
        await Task.Delay(TimeSpan.FromSeconds(20));
        var alone = _cluster.Node(stale).Output;
        Assert.DoesNotContain("node ready", alone);
        Assert.DoesNotContain("leads in epoch", alone);
        Assert.Contains("serves once 2 of them", alone);

        await _cluster.StartWaitingNodeAsync(1);
        await _cluster.StartWaitingNodeAsync(2);
        await _cluster.WaitForMembersAsync(3, TimeSpan.FromSeconds(90));
        await _cluster.WaitForIsrAsync(Topic, 3, TimeSpan.FromSeconds(90));

        await WaitForHighWatermarksAsync();
        var result = await _checker.ReadBackAsync(_cluster.Bootstrap, Topic, TimeSpan.FromSeconds(120));
        output.WriteLine($"after the lone stale start: {result}");
        PrintWhatTheNodesDecided();
        Assert.Empty(result.Lost);
        Assert.Empty(result.Conflicts);
        Assert.Equal(0, result.Unread);
    }

    /// <summary>
    /// A leader elected after the restart serves what its followers confirm: its high watermark passes the
    /// acknowledged records once they have fetched. Waits for that (a lost record never gets there, so on a time-out
    /// the read-back below reports what is missing).
    /// </summary>
    private async Task WaitForHighWatermarksAsync()
    {
        var ends = _checker.AcknowledgedEnds();
        try
        {
            await ThreeNodeCluster.Eventually(async () =>
            {
                await using var admin = _cluster.Admin();
                for (var p = 0; p < Partitions; p++)
                {
                    if ((await admin.ListOffsetsAsync(Topic, p, Broker.Protocol.Messages.OffsetSpec.Latest)).Offset < ends[p]) return false;
                }
                return true;
            }, TimeSpan.FromSeconds(60), "every partition's high watermark past its acknowledged records");
        }
        catch (TimeoutException ex)
        {
            output.WriteLine(ex.Message);
            var topic = await _cluster.DescribeAsync(Topic);
            foreach (var p in topic.Partitions)
                output.WriteLine($"  partition {p.Partition}: leader {p.LeaderId} epoch {p.LeaderEpoch} isr [{string.Join(",", p.Isr)}] high watermark {p.HighWatermark} log end {p.LogEndOffset}, acknowledged up to {ends[p.Partition]}");
        }
    }

    private void PrintWhatTheNodesDecided()
    {
        for (var i = 0; i < 3; i++)
        {
            foreach (var line in _cluster.Node(i).Output.Split('\n'))
            {
                if (line.Contains("truncating") || line.Contains("leads in epoch") || line.Contains("is up") || line.Contains("recovered"))
                    output.WriteLine($"  node index {i}: " + line[..Math.Min(line.Length, 240)]);
            }
        }
    }
}
