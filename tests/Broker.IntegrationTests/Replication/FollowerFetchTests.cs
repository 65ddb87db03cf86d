using System.Diagnostics;
using System.Text;
using Broker.Client;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// KIP-392 on three node processes, each in its own rack: a consumer that sets ClientRack to a follower's rack
/// reads from that follower. Proved by freezing the leader (SIGSTOP): the consumer still reads every committed
/// record, and afterwards the partition has the same leader in the same epoch, so no other replica took over.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class FollowerFetchTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "nearby";
    private const int Records = 2_000;
    private readonly ThreeNodeCluster _cluster = new(racks: true);

    public Task InitializeAsync() => _cluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_consumer_in_a_followers_rack_reads_committed_records_from_that_follower_while_the_leader_is_frozen()
    {
        await _cluster.CreateTopicAsync(Topic, 1, 3, minInsyncReplicas: 2);
        await ThreeNodeCluster.Eventually(async () => (await _cluster.DescribeAsync(Topic)).Partitions[0] is { LeaderId: > 0, Isr.Count: 3 },
            TimeSpan.FromSeconds(60), "three in-sync replicas");
        var written = new Dictionary<long, string>();
        await using (var producer = new Producer(new ProducerConfig { BootstrapServers = _cluster.Bootstrap, Acks = Acks.All, LingerMs = 5 }))
        {
            var sends = Enumerable.Range(0, Records).Select(async i =>
            {
                var r = await producer.ProduceAsync(Topic, 0, new Message { Value = Encoding.UTF8.GetBytes($"r-{i}") });
                lock (written) written[r.Offset] = $"r-{i}";
            });
            await Task.WhenAll(sends);
        }
        var before = (await _cluster.DescribeAsync(Topic)).Partitions[0];
        var leader = _cluster.IndexOfNodeId(before.LeaderId);
        var follower = Enumerable.Range(0, 3).First(i => i != leader);
        output.WriteLine($"leader node {before.LeaderId} (zone{leader}), epoch {before.LeaderEpoch}; consumer in {ThreeNodeCluster.RackOf(follower)} with follower node {_cluster.NodeIdOf(follower)}");

        using var consumer = new Consumer(new ConsumerConfig
        {
            BootstrapServers = _cluster.BootstrapIn(follower), ClientRack = ThreeNodeCluster.RackOf(follower), FetchMaxWaitMs = 100,
        });
        consumer.Assign([new TopicPartitionOffset(Topic, 0, 0)]);
        // Once through the follower while the leader runs: the follower's high watermark reaches the end.
        Assert.Equal(written, Read(consumer, TimeSpan.FromSeconds(30)));

        // Now with the leader frozen: only the follower can answer, well before the cluster would replace the leader.
        _cluster.Node(leader).Pause();
        var clock = Stopwatch.StartNew();
        Dictionary<long, string> frozen;
        try
        {
            consumer.Seek(new TopicPartitionOffset(Topic, 0, 0));
            frozen = Read(consumer, TimeSpan.FromSeconds(2));
        }
        finally
        {
            _cluster.Node(leader).Resume();
        }
        output.WriteLine($"read {frozen.Count} records from the follower in {clock.ElapsedMilliseconds} ms while the leader was frozen");
        Assert.Equal(written, frozen);
        var after = (await _cluster.DescribeAsync(Topic)).Partitions[0];
        Assert.Equal(before.LeaderId, after.LeaderId);
        Assert.Equal(before.LeaderEpoch, after.LeaderEpoch);
    }

    /// <summary>Consumes until every record is in or the time is up.</summary>
    private static Dictionary<long, string> Read(Consumer consumer, TimeSpan timeout)
    {
        var read = new Dictionary<long, string>();
        var deadline = Stopwatch.StartNew();
        while (read.Count < Records && deadline.Elapsed < timeout)
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r) read[r.Offset] = Encoding.UTF8.GetString(r.Value!);
        return read;
    }
}
