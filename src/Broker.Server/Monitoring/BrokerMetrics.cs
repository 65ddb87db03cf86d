using System.Buffers.Binary;
using System.Collections.Concurrent;
using Akka.Actor;
using Prometheus;

namespace Broker.Server.Monitoring;

/// <summary>
/// The node's Prometheus metrics (prometheus-net), one registry per ActorSystem (an Akka extension, so actors find it
/// with <see cref="Get"/> and tests can run several nodes in one process). Two kinds: counters the request paths bump
/// (records and bytes in/out, requests, latency), and gauges set from each <see cref="ClusterSnapshot"/> by
/// <see cref="ClusterWatcherActor"/>. Per-partition gauges come only from the partition's leader, and cluster-wide ones
/// (offline partitions, members by state, group lag) only from the cluster's leader node, so summing over the
/// scraped nodes counts each once. With <c>broker.http.metrics = off</c> the request paths count nothing.
/// </summary>
public sealed class BrokerMetrics : IExtension
{
    private static readonly double[] LatencyBuckets = Histogram.ExponentialBuckets(0.0005, 2, 16); // 0.5 ms .. 16 s
    private readonly ConcurrentDictionary<string, TopicCounters> _topics = new(StringComparer.Ordinal);
    private readonly Counter _recordsIn, _bytesIn, _recordsOut, _bytesOut;
    private readonly Counter _produceRequests, _fetchRequests, _isrShrinks, _isrExpands, _elections, _replicaFetchesTrimmed, _replicaFetchesParked;
    private readonly Histogram _produceLatency, _journalLatency, _fetchLatency;
    private readonly Gauge _logEnd, _highWatermark, _isrSize, _partitionUnderReplicated, _underReplicated, _offline, _led, _members, _groupLag, _groupLagTotal, _up;
    private readonly Gauge _threadPoolThreads, _threadPoolQueue;
    private HashSet<string[]> _partitionLabels = new(LabelsComparer.Instance);
    private HashSet<string[]> _lagLabels = new(LabelsComparer.Instance);
    private HashSet<string> _groupLabels = new(StringComparer.Ordinal);

    public BrokerMetrics(bool enabled)
    {
        Enabled = enabled;
        Registry = Metrics.NewCustomRegistry();
        DotNetStats.Register(Registry); // GC collections and heap, process memory, CPU, threads, open handles
        var f = Metrics.WithCustomRegistry(Registry);
        _recordsIn = f.CreateCounter("broker_records_in_total", "Records produced through this node's gateway and acknowledged (acks=0: sent), per topic.", "topic");
        _bytesIn = f.CreateCounter("broker_bytes_in_total", "Record batch bytes produced, per topic.", "topic");
        _recordsOut = f.CreateCounter("broker_records_out_total", "Records served to fetches by this node's replicas, per topic.", "topic");
        _bytesOut = f.CreateCounter("broker_bytes_out_total", "Record batch bytes served to fetches, per topic.", "topic");
        _produceRequests = f.CreateCounter("broker_produce_requests_total", "Produce requests answered by this node's gateway.");
        _fetchRequests = f.CreateCounter("broker_fetch_requests_total", "Fetches answered with records or an empty result by this node's replicas.");
        _produceLatency = f.CreateHistogram("broker_produce_latency_seconds", "Time from a partition's batch entering the gateway to its acknowledgement (acks 1 or all).",
            new HistogramConfiguration { Buckets = LatencyBuckets });
        _journalLatency = f.CreateHistogram("broker_journal_append_latency_seconds", "Time a leader's batch takes to be written and fsynced to the node's journal (persist to its callback).",
            new HistogramConfiguration { Buckets = LatencyBuckets });
        _fetchLatency = f.CreateHistogram("broker_fetch_latency_seconds", "Time a replica takes to read a fetch's records once they are there (tail cache or journal); long-poll waiting for new records is not counted.",
            new HistogramConfiguration { Buckets = LatencyBuckets });
        _isrShrinks = f.CreateCounter("broker_isr_shrinks_total", "Replicas that left the ISR of a partition this node leads (seen between snapshots).");
        _isrExpands = f.CreateCounter("broker_isr_expands_total", "Replicas that joined the ISR of a partition this node leads (seen between snapshots).");
        _replicaFetchesTrimmed = f.CreateCounter("broker_replica_fetches_trimmed_total", "Follower fetch answers this node, as leader, sent with fewer bytes than were there, to stay within broker.replication.max-bytes-in-flight-per-node toward the follower's node.");
        _replicaFetchesParked = f.CreateCounter("broker_replica_fetches_parked_total", "Follower fetches this node, as leader, held back until bytes toward the follower's node were delivered (broker.replication.max-bytes-in-flight-per-node).");
        _elections = f.CreateCounter("broker_leader_elections_total", "Partitions whose leadership (a new leader or epoch) came to this node.");
        _logEnd = f.CreateGauge("broker_partition_log_end_offset", "Log end offset of a partition this node leads.", "topic", "partition");
        _highWatermark = f.CreateGauge("broker_partition_high_watermark", "High watermark of a partition this node leads.", "topic", "partition");
        _isrSize = f.CreateGauge("broker_partition_isr_size", "In-sync replicas of a partition this node leads.", "topic", "partition");
        _partitionUnderReplicated = f.CreateGauge("broker_partition_under_replicated", "1 if a partition this node leads has fewer in-sync replicas than replicas.", "topic", "partition");
        _underReplicated = f.CreateGauge("broker_under_replicated_partitions", "Partitions this node leads with fewer in-sync replicas than replicas (Kafka's UnderReplicatedPartitions).");
        _led = f.CreateGauge("broker_partitions_led", "Partitions this node leads (Kafka's LeaderCount).");
        _offline = f.CreateGauge("broker_offline_partitions", "Partitions without a live leader; reported by the cluster leader node only (Kafka's OfflinePartitionsCount).");
        _members = f.CreateGauge("broker_cluster_members", "Broker nodes by state (Up, WeaklyUp, Joining, Leaving, Unreachable, Down); reported by the cluster leader node only.", "state");
        _groupLag = f.CreateGauge("broker_consumer_group_lag", "Log end offset minus the group's committed offset; reported by the cluster leader node only.", "group", "topic", "partition");
        _groupLagTotal = f.CreateGauge("broker_consumer_group_total_lag", "A group's lag summed over its partitions; reported by the cluster leader node only.", "group");
        _up = f.CreateGauge("broker_node_up", "1 while this node is an Up cluster member.");
        _threadPoolThreads = f.CreateGauge("dotnet_threadpool_threads", "Thread pool threads.");
        _threadPoolQueue = f.CreateGauge("dotnet_threadpool_queue_length", "Work items waiting in the thread pool's queues.");
        Registry.AddBeforeCollectCallback(() =>
        {
            _threadPoolThreads.Set(ThreadPool.ThreadCount);
            _threadPoolQueue.Set(ThreadPool.PendingWorkItemCount);
        });
    }

    public bool Enabled { get; }
    public CollectorRegistry Registry { get; }

    public static BrokerMetrics Get(ActorSystem system) => system.WithExtension<BrokerMetrics, BrokerMetricsProvider>();

    private sealed record TopicCounters(Counter.Child RecordsIn, Counter.Child BytesIn, Counter.Child RecordsOut, Counter.Child BytesOut);

    // A static factory with the metrics as its argument: a lambda capturing this allocated a delegate on every batch.
    private TopicCounters For(string topic) => _topics.GetOrAdd(topic, static (t, m) =>
        new TopicCounters(m._recordsIn.WithLabels(t), m._bytesIn.WithLabels(t), m._recordsOut.WithLabels(t), m._bytesOut.WithLabels(t)), this);

    /// <summary>A batch the partition acknowledged; <paramref name="started"/> is <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> when it came in (0: acks=0, no latency).</summary>
    public void Produced(string topic, ReadOnlySpan<byte> batch, long started)
    {
        if (!Enabled) return;
        var c = For(topic);
        c.BytesIn.Inc(batch.Length);
        c.RecordsIn.Inc(RecordCount(batch));
        if (started != 0) _produceLatency.Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>A leader's batch is in the journal; <paramref name="started"/> is the timestamp when it was handed to Persist.</summary>
    public void JournalAppended(long started)
    {
        if (Enabled) _journalLatency.Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>A fetch's records were read (from the tail cache at once, or back from the journal).</summary>
    /// <summary>A follower fetch answered with fewer bytes than it could hold (trimmed) or held back (parked) by the replication budget.</summary>
    public void ReplicaFetchThrottled(bool parked)
    {
        if (!Enabled) return;
        if (parked) _replicaFetchesParked.Inc();
        else _replicaFetchesTrimmed.Inc();
    }

    public void FetchRead(long started)
    {
        if (Enabled) _fetchLatency.Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    public void ProduceRequest()
    {
        if (Enabled) _produceRequests.Inc();
    }

    /// <summary>Records a replica served; walks the batch headers only (bytes stay bytes).</summary>
    public void Fetched(string topic, ReadOnlySpan<byte> records)
    {
        if (!Enabled) return;
        _fetchRequests.Inc();
        if (records.IsEmpty) return;
        var c = For(topic);
        c.BytesOut.Inc(records.Length);
        long count = 0;
        while (records.Length >= 61)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(records[8..]) + 12;
            if (length <= 12 || length > records.Length) break;
            count += RecordCount(records);
            records = records[length..];
        }
        c.RecordsOut.Inc(count);
    }

    private static int RecordCount(ReadOnlySpan<byte> batch) => batch.Length >= 61 ? BinaryPrimitives.ReadInt32BigEndian(batch[57..]) : 0;

    /// <summary>Sets the gauges from a snapshot, and counts elections and ISR changes of the partitions this node leads.</summary>
    public void Observe(ClusterSnapshot previous, ClusterSnapshot next, int selfId, bool selfUp, bool clusterLeader)
    {
        _up.Set(selfUp ? 1 : 0);
        var before = previous.Partitions.ToDictionary(p => (p.Topic, p.Partition));
        var partitionLabels = new HashSet<string[]>(LabelsComparer.Instance);
        var led = 0;
        var underReplicated = 0;
        foreach (var p in next.Partitions)
        {
            if (p.Leader != selfId) continue;
            led++;
            string[] labels = [p.Topic, p.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture)];
            partitionLabels.Add(labels);
            if (p.LogEndOffset >= 0) _logEnd.WithLabels(labels).Set(p.LogEndOffset);
            if (p.HighWatermark >= 0) _highWatermark.WithLabels(labels).Set(p.HighWatermark);
            _isrSize.WithLabels(labels).Set(p.Isr.Count);
            _partitionUnderReplicated.WithLabels(labels).Set(p.UnderReplicated ? 1 : 0);
            if (p.UnderReplicated) underReplicated++;
            if (!before.TryGetValue((p.Topic, p.Partition), out var was)) continue;
            if (was.Leader != selfId || was.LeaderEpoch != p.LeaderEpoch) _elections.Inc();
            _isrShrinks.Inc(was.Isr.Count(id => !p.Isr.Contains(id)));
            _isrExpands.Inc(p.Isr.Count(id => !was.Isr.Contains(id)));
        }
        _partitionLabels = Replace(_partitionLabels, partitionLabels, [_logEnd, _highWatermark, _isrSize, _partitionUnderReplicated]);
        _led.Set(led);
        _underReplicated.Set(underReplicated);

        var lagLabels = new HashSet<string[]>(LabelsComparer.Instance);
        var groups = new HashSet<string>(StringComparer.Ordinal);
        foreach (var state in new[] { "Up", "WeaklyUp", "Joining", "Leaving", "Exiting", NodeView.Unreachable, NodeView.Down })
            _members.WithLabels(state).Set(clusterLeader ? next.Nodes.Count(n => n.State == state) : 0);
        if (clusterLeader)
        {
            _offline.Set(next.OfflineCount);
            foreach (var g in next.Groups)
            {
                groups.Add(g.GroupId);
                _groupLagTotal.WithLabels(g.GroupId).Set(g.TotalLag);
                foreach (var p in g.Partitions)
                {
                    if (p.Lag is not { } lag) continue;
                    string[] labels = [g.GroupId, p.Topic, p.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture)];
                    lagLabels.Add(labels);
                    _groupLag.WithLabels(labels).Set(lag);
                }
            }
        }
        else
        {
            _offline.Set(0);
        }
        _lagLabels = Replace(_lagLabels, lagLabels, [_groupLag]);
        foreach (var gone in _groupLabels.Where(g => !groups.Contains(g))) _groupLagTotal.RemoveLabelled(gone);
        _groupLabels = groups;
    }

    /// <summary>Drops the series of label sets that are gone (a partition that moved away, a deleted group), so stale values do not linger.</summary>
    private static HashSet<string[]> Replace(HashSet<string[]> old, HashSet<string[]> current, Gauge[] gauges)
    {
        foreach (var labels in old)
        {
            if (current.Contains(labels)) continue;
            foreach (var g in gauges) g.RemoveLabelled(labels);
        }
        return current;
    }

    private sealed class LabelsComparer : IEqualityComparer<string[]>
    {
        public static readonly LabelsComparer Instance = new();

        public bool Equals(string[]? x, string[]? y) => x is not null && y is not null && x.AsSpan().SequenceEqual(y);

        public int GetHashCode(string[] labels)
        {
            var hash = new HashCode();
            foreach (var l in labels) hash.Add(l, StringComparer.Ordinal);
            return hash.ToHashCode();
        }
    }
}

/// <summary>Creates a system's <see cref="BrokerMetrics"/>: counting is on when <c>broker.http.enabled</c> and <c>broker.http.metrics</c> are (nobody could read them otherwise).</summary>
public sealed class BrokerMetricsProvider : ExtensionIdProvider<BrokerMetrics>
{
    public override BrokerMetrics CreateExtension(ExtendedActorSystem system) =>
        new(system.Settings.Config.GetBoolean("broker.http.enabled", false) && system.Settings.Config.GetBoolean("broker.http.metrics", true));
}
