using Broker.Server.Monitoring;
using Xunit;

namespace Broker.Server.Tests.Monitoring;

/// <summary>The gauges set from snapshots and the counters the request paths bump, read back as Prometheus text.</summary>
public sealed class BrokerMetricsTests
{
    private static PartitionView Partition(int p, int leader, int epoch, int[] isr) => new("orders", p, leader, epoch, [1, 2, 3], isr, [], 100, 120, null);

    private static ClusterSnapshot Snapshot(params PartitionView[] partitions) =>
        new(DateTimeOffset.UnixEpoch, [new NodeView(1, "a", [], "Up"), new NodeView(2, "b", [], NodeView.Unreachable)], partitions, []);

    private static async Task<string> Text(BrokerMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public async Task Partition_gauges_come_from_the_leader_and_vanish_when_leadership_moves()
    {
        var metrics = new BrokerMetrics(enabled: true);
        var first = Snapshot(Partition(0, 1, 1, [1, 2, 3]), Partition(1, 2, 1, [1, 2, 3]));
        metrics.Observe(ClusterSnapshot.Empty, first, selfId: 1, selfUp: true, clusterLeader: true);
        var text = await Text(metrics);
        Assert.Contains("broker_partition_high_watermark{topic=\"orders\",partition=\"0\"} 100", text);
        Assert.DoesNotContain("partition=\"1\"", text); // led by node 2: its gauges are node 2's to report
        Assert.Contains("broker_partitions_led 1", text);
        Assert.Contains("broker_cluster_members{state=\"Unreachable\"} 1", text);

        var second = Snapshot(Partition(0, 2, 2, [2, 3]), Partition(1, 1, 2, [1, 3]));
        metrics.Observe(first, second, selfId: 1, selfUp: true, clusterLeader: true);
        text = await Text(metrics);
        Assert.DoesNotContain("partition=\"0\"", text);
        Assert.Contains("broker_partition_isr_size{topic=\"orders\",partition=\"1\"} 2", text);
        Assert.Contains("broker_under_replicated_partitions 1", text);
        Assert.Contains("broker_leader_elections_total 1", text);
        Assert.Contains("broker_isr_shrinks_total 1", text);
    }

    [Fact]
    public async Task Cluster_wide_gauges_come_only_from_the_cluster_leader()
    {
        var metrics = new BrokerMetrics(enabled: true);
        metrics.Observe(ClusterSnapshot.Empty, Snapshot(Partition(0, -1, 1, [2])), selfId: 1, selfUp: true, clusterLeader: false);
        var text = await Text(metrics);
        Assert.Contains("broker_offline_partitions 0", text);
        Assert.Contains("broker_cluster_members{state=\"Up\"} 0", text);
    }

    [Fact]
    public async Task Produced_and_fetched_count_records_from_batch_headers_and_nothing_when_off()
    {
        var batch = new byte[61 + 10];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(8), batch.Length - 12); // batch length
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(57), 7); // record count
        var two = batch.Concat(batch).ToArray();

        var on = new BrokerMetrics(enabled: true);
        on.Produced("orders", batch, started: System.Diagnostics.Stopwatch.GetTimestamp());
        on.Fetched("orders", two);
        var text = await Text(on);
        Assert.Contains("broker_records_in_total{topic=\"orders\"} 7", text);
        Assert.Contains($"broker_bytes_in_total{{topic=\"orders\"}} {batch.Length}", text);
        Assert.Contains("broker_records_out_total{topic=\"orders\"} 14", text);
        Assert.Contains("broker_produce_latency_seconds_count 1", text);

        var off = new BrokerMetrics(enabled: false);
        off.Produced("orders", batch, started: 0);
        Assert.DoesNotContain("broker_records_in_total{", await Text(off));
    }

    [Fact]
    public async Task Feed_hands_out_the_next_view_and_waits_for_one()
    {
        var feed = new ClusterViewFeed();
        var waiting = feed.NextAsync(0, CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        feed.Publish(new ClusterView(1, 1, true, ClusterSnapshot.Empty, []));
        Assert.Equal(1, (await waiting.WaitAsync(TimeSpan.FromSeconds(5))).Version);
        Assert.Equal(1, (await feed.NextAsync(0, CancellationToken.None)).Version); // already newer: at once
    }
}
