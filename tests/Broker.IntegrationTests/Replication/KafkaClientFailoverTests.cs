using Confluent.Kafka;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// An unmodified Kafka client (Confluent.Kafka) producing with acks=all through the nodes' Kafka listeners while
/// the node leading partition 0 is SIGKILLed: the client follows NOT_LEADER_OR_FOLLOWER and refreshed metadata
/// to the new leaders and keeps going, every record it was told is stored reads back at its offset, and as an
/// idempotent producer its retries store nothing twice.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class KafkaClientFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "kafka-failover";
    private const int Partitions = 3;
    private readonly ThreeNodeCluster _cluster = new();
    private readonly AckChecker _checker = new(Partitions);

    public Task InitializeAsync() => _cluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_kafka_client_producing_with_acks_all_and_idempotence_keeps_going_when_the_leaders_node_is_killed_and_loses_and_duplicates_nothing()
    {
        await _cluster.CreateTopicAsync(Topic, Partitions, 3, minInsyncReplicas: 2);
        await ThreeNodeCluster.Eventually(async () => (await _cluster.DescribeAsync(Topic)).Partitions.All(p => p.LeaderId > 0 && p.Isr.Count == 3),
            TimeSpan.FromSeconds(60), "three in-sync replicas everywhere");
        var bootstrap = string.Join(",", Enumerable.Range(0, 3).Select(i => _cluster.Node(i).KafkaBootstrap));
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Acks = Acks.All,
            // Retries after the kill must not store a record twice: the new leader knows the producer's sequences.
            EnableIdempotence = true,
            LingerMs = 5,
            MessageTimeoutMs = 60_000,
            RetryBackoffMs = 100,
        }).Build();

        using var stop = new CancellationTokenSource();
        var load = Task.Run(() => ProduceAsync(producer, stop.Token));
        await ThreeNodeCluster.Eventually(() => Task.FromResult(_checker.AckCount >= 3_000), TimeSpan.FromSeconds(60), "3,000 acknowledgements");

        var leaderId = (await _cluster.DescribeAsync(Topic)).Partitions[0].LeaderId;
        var victim = _cluster.IndexOfNodeId(leaderId);
        _cluster.Kill(victim);
        var killedAt = Environment.TickCount64; // after the signal is delivered: a record sent later cannot reach the old leader
        output.WriteLine($"SIGKILL node {leaderId} (leader of partition 0) after {_checker.AckCount} acknowledgements");

        // Every partition acknowledges records sent after the kill: the client found the new leaders by itself.
        await ThreeNodeCluster.Eventually(() => Task.FromResult(Enumerable.Range(0, Partitions).All(p => _checker.FirstAckOfSendAfter(p, killedAt) is not null)),
            TimeSpan.FromSeconds(90), "every partition acknowledges again through the Kafka client");
        output.WriteLine($"partition 0 acknowledged again {_checker.FirstAckOfSendAfter(0, killedAt)!.Value - killedAt} ms after the kill");
        var afterKill = _checker.AckCount;
        await ThreeNodeCluster.Eventually(() => Task.FromResult(_checker.AckCount >= afterKill + 2_000), TimeSpan.FromSeconds(60), "2,000 more acknowledgements");
        stop.Cancel();
        await load;
        producer.Flush(TimeSpan.FromSeconds(30));

        var live = Enumerable.Range(0, 3).Where(i => i != victim).ToArray();
        var result = await _checker.ReadBackAsync(_cluster.BootstrapIn(live), Topic, TimeSpan.FromSeconds(120));
        output.WriteLine($"checker: {result}; {_checker.FailureCount} deliveries failed (not acknowledged, so allowed to be lost)");
        Assert.Empty(result.Conflicts);
        Assert.Empty(result.Lost);
        Assert.Empty(result.Duplicates);
    }

    /// <summary>Unique values, up to 1,000 records in flight; each delivery report goes to the checker.</summary>
    private async Task ProduceAsync(IProducer<Null, string> producer, CancellationToken stop)
    {
        var sequence = 0;
        using var inFlight = new SemaphoreSlim(1_000);
        while (!stop.IsCancellationRequested)
        {
            await inFlight.WaitAsync(CancellationToken.None);
            var value = $"k{sequence}";
            var partition = sequence++ % Partitions;
            var sentAt = Environment.TickCount64;
            producer.Produce(new TopicPartition(Topic, partition), new Message<Null, string> { Value = value }, report =>
            {
                if (report.Error.IsError) _checker.Failed();
                else _checker.Acknowledged(report.Partition.Value, report.Offset.Value, value, sentAt);
                inFlight.Release();
            });
        }
        // Wait for the outstanding reports before the semaphore goes.
        for (var i = 0; i < 1_000; i++) await inFlight.WaitAsync(TimeSpan.FromSeconds(90), CancellationToken.None);
    }
}
