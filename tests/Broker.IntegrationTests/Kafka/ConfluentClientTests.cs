using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Kafka;

/// <summary>
/// An unmodified Kafka client (Confluent.Kafka, librdkafka inside) against a real node's Kafka listener:
/// metadata, topic creation, keyed produce with acks=all, and reading everything back by assign + seek.
/// </summary>
public sealed class ConfluentClientTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "broker-it", Guid.NewGuid().ToString("N"));
    private BrokerProcess _node = null!;

    public async Task InitializeAsync() => _node = await BrokerProcess.StartNodeAsync(_dataDir);

    public Task DisposeAsync()
    {
        _node.Dispose();
        output.WriteLine(_node.Output);
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the temp directory is cleaned up by the OS otherwise.
        }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Kafka_client_creates_a_topic_produces_keyed_records_with_acks_all_and_consumes_them_back()
    {
        const string topic = "kafka-orders";
        const int records = 300;
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _node.KafkaBootstrap }).Build();
        var cluster = admin.GetMetadata(TimeSpan.FromSeconds(20));
        var broker = Assert.Single(cluster.Brokers);
        Assert.Equal(_node.NodeId, broker.BrokerId);
        Assert.Equal(_node.KafkaPort, broker.Port);

        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 3, ReplicationFactor = 1 }]);
        var created = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 3, ReplicationFactor = 1 }]));
        Assert.Equal(ErrorCode.TopicAlreadyExists, created.Results[0].Error.Code);

        // As in Kafka, leaders are elected after CreateTopics returns.
        await Broker.Tests.Eventually.TrueAsync(() =>
        {
            var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(20)).Topics.Single().Partitions;
            return Task.FromResult(partitions.Count == 3 && partitions.All(p => p.Leader == _node.NodeId));
        }, TimeSpan.FromSeconds(30), "every partition to have this node as leader in Metadata");

        var delivered = new List<DeliveryResult<string, string>>();
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = _node.KafkaBootstrap,
            Acks = Acks.All,
            EnableIdempotence = false,
            LingerMs = 5,
        }).Build())
        {
            var sends = new List<Task<DeliveryResult<string, string>>>();
            for (var i = 0; i < records; i++)
                sends.Add(producer.ProduceAsync(topic, new Message<string, string> { Key = $"customer-{i % 10}", Value = $"order-{i}" }));
            delivered.AddRange(await Task.WhenAll(sends));
        }
        Assert.All(delivered, d => Assert.Equal(PersistenceStatus.Persisted, d.Status));
        // One key, one partition; offsets within a partition are dense from 0.
        Assert.All(delivered.GroupBy(d => d.Message.Key), g => Assert.Single(g.Select(d => d.Partition.Value).Distinct()));
        foreach (var byPartition in delivered.GroupBy(d => d.Partition.Value))
            Assert.Equal(Enumerable.Range(0, byPartition.Count()).Select(i => (long)i), byPartition.Select(d => d.Offset.Value).Order());

        var consumed = new Dictionary<(int Partition, long Offset), (string Key, string Value)>();
        using (var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = _node.KafkaBootstrap,
            GroupId = "unused-" + Guid.NewGuid().ToString("N"), // librdkafka wants one; assign() never joins it
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
        }).Build())
        {
            consumer.Assign(Enumerable.Range(0, 3).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (consumed.Count < records && DateTime.UtcNow < deadline)
            {
                var result = consumer.Consume(TimeSpan.FromSeconds(1));
                if (result?.Message is { } m) consumed[(result.Partition.Value, result.Offset.Value)] = (m.Key, m.Value);
            }
            consumer.Close();
        }
        output.WriteLine($"consumed {consumed.Count} of {records}");
        Assert.Equal(records, consumed.Count);
        foreach (var d in delivered)
            Assert.Equal((d.Message.Key, d.Message.Value), consumed[(d.Partition.Value, d.Offset.Value)]);
    }
}
