using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Broker.Client;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// Runs only when BROKER_CHAOS_MINUTES is set (it takes minutes): acks=all producers and tailing consumers
/// on a 3-node cluster while a random node is SIGKILLed and restarted, one down at a time. Then a checker
/// in the style of Jepsen's Kafka tests reports lost acknowledged writes, offsets acknowledged for two
/// records, and records a consumer saw that the final log does not hold (reads of later-truncated data).
/// Run: BROKER_CHAOS_MINUTES=10 dotnet test tests/Broker.IntegrationTests -c Release --filter ChaosCheck
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ChaosCheckTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "chaos";
    private const int Partitions = 6;
    private readonly ThreeNodeCluster _cluster = new();
    private readonly AckChecker _checker = new(Partitions);
    private readonly ConcurrentDictionary<(int Partition, long Offset), string> _seen = new();
    private readonly ConcurrentQueue<string> _seenConflicts = new();

    public Task InitializeAsync() => ChaosFactAttribute.Minutes > 0 ? _cluster.StartAsync() : Task.CompletedTask;

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [ChaosFact]
    public async Task Random_kills_and_restarts_lose_nothing_acknowledged_and_show_no_truncated_reads()
    {
        await _cluster.CreateTopicAsync(Topic, Partitions, 3, minInsyncReplicas: 2);
        using var stop = new CancellationTokenSource();
        var producers = Enumerable.Range(0, 2).Select(w => Task.Run(() => ProduceAsync(w, stop.Token))).ToArray();
        var consumer = Task.Run(() => TailAsync(stop.Token));

        var random = new Random(Environment.TickCount);
        var clock = Stopwatch.StartNew();
        var kills = 0;
        while (clock.Elapsed < TimeSpan.FromMinutes(ChaosFactAttribute.Minutes))
        {
            await Task.Delay(TimeSpan.FromSeconds(5 + random.Next(15)));
            var victim = random.Next(3);
            _cluster.Kill(victim);
            kills++;
            output.WriteLine($"{clock.Elapsed:mm\\:ss} SIGKILL node index {victim} ({_checker.AckCount} acknowledged so far)");
            await Task.Delay(TimeSpan.FromSeconds(5 + random.Next(15)));
            await _cluster.WaitForKilledNodesRemovedAsync();
            await _cluster.StartNodeAsync(victim);
            await _cluster.WaitForMembersAsync(3, TimeSpan.FromSeconds(90));
        }

        stop.Cancel();
        await Task.WhenAll(producers);
        await consumer;
        var result = await _checker.ReadBackAsync(_cluster.Bootstrap, Topic, TimeSpan.FromMinutes(3));
        var finalLog = await LogReader.ReadAllAsync(_cluster.Bootstrap, Topic, Partitions, TimeSpan.FromMinutes(3));
        var truncatedReads = _seen.Where(kv => !finalLog.TryGetValue(kv.Key, out var v) || v != kv.Value)
            .Select(kv => $"{kv.Key.Partition}@{kv.Key.Offset} '{kv.Value}'").ToList();
        output.WriteLine($"chaos {clock.Elapsed:mm\\:ss}, {kills} kills: {result}; consumers saw {_seen.Count} records, "
            + $"{truncatedReads.Count} later truncated, {_seenConflicts.Count} offsets seen with two values; {_checker.FailureCount} sends failed");
        Assert.Empty(result.Lost);
        Assert.Empty(result.Conflicts);
        Assert.Empty(truncatedReads);
        Assert.Empty(_seenConflicts);
    }

    private async Task ProduceAsync(int writer, CancellationToken stop)
    {
        await using var producer = new Producer(new ProducerConfig { BootstrapServers = _cluster.Bootstrap, Acks = Acks.All, LingerMs = 2, RequestTimeout = TimeSpan.FromSeconds(3) });
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

    /// <summary>A consumer tailing every partition; anything it sees must still be there, unchanged, at the end.</summary>
    private async Task TailAsync(CancellationToken stop)
    {
        await Task.Yield();
        using var consumer = new Consumer(new ConsumerConfig { BootstrapServers = _cluster.Bootstrap, FetchMaxWaitMs = 200 });
        consumer.Assign(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(Topic, p, Offset.Beginning)).ToList());
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is not { } r) continue;
                var value = Encoding.UTF8.GetString(r.Value!);
                var stored = _seen.GetOrAdd((r.Partition, r.Offset), value);
                if (stored != value) _seenConflicts.Enqueue($"{r.Partition}@{r.Offset}: '{stored}' then '{value}'");
            }
            catch (BrokerException)
            {
                // a node is down: the consumer fetches again
            }
        }
    }
}

/// <summary>A fact that runs only when BROKER_CHAOS_MINUTES names how many minutes to run.</summary>
public sealed class ChaosFactAttribute : FactAttribute
{
    public static double Minutes =>
        double.TryParse(Environment.GetEnvironmentVariable("BROKER_CHAOS_MINUTES"), System.Globalization.CultureInfo.InvariantCulture, out var m) ? m : 0;

    public ChaosFactAttribute()
    {
        if (Minutes <= 0) Skip = "a chaos run takes minutes: set BROKER_CHAOS_MINUTES to run it";
        Timeout = 0;
    }
}
