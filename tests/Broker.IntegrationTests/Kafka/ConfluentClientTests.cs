using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Kafka;

/// <summary>
/// An unmodified Kafka client (Confluent.Kafka, librdkafka inside) against a real node's Kafka listener:
/// metadata, topic creation, keyed produce with acks=all, and reading everything back by assign + seek.
/// </summary>
public sealed class ConfluentClientTests(OneNodeFixture node, ITestOutputHelper output) : IClassFixture<OneNodeFixture>
{
    private BrokerProcess Node => node.Process;

    [Fact]
    public async Task Kafka_client_creates_a_topic_produces_keyed_records_with_acks_all_and_idempotence_and_consumes_them_back()
    {
        const string topic = "kafka-orders";
        const int records = 300;
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Node.KafkaBootstrap }).Build();
        var cluster = admin.GetMetadata(TimeSpan.FromSeconds(20));
        var broker = Assert.Single(cluster.Brokers);
        Assert.Equal(Node.NodeId, broker.BrokerId);
        Assert.Equal(Node.KafkaPort, broker.Port);

        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 3, ReplicationFactor = 1 }]);
        var created = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 3, ReplicationFactor = 1 }]));
        Assert.Equal(ErrorCode.TopicAlreadyExists, created.Results[0].Error.Code);

        // As in Kafka, leaders are elected after CreateTopics returns.
        await Broker.Tests.Eventually.TrueAsync(() =>
        {
            var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(20)).Topics.Single().Partitions;
            return Task.FromResult(partitions.Count == 3 && partitions.All(p => p.Leader == Node.NodeId));
        }, TimeSpan.FromSeconds(30), "every partition to have this node as leader in Metadata");

        var delivered = new List<DeliveryResult<string, string>>();
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = Node.KafkaBootstrap,
            Acks = Acks.All,
            // librdkafka asks InitProducerId first and numbers every batch; a broker without it fails the producer.
            EnableIdempotence = true,
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
            BootstrapServers = Node.KafkaBootstrap,
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

    [Fact]
    public async Task Kafka_consumer_without_group_membership_commits_offsets_and_a_new_consumer_resumes_from_them()
    {
        const string topic = "kafka-resume";
        var group = "resume-" + Guid.NewGuid().ToString("N");
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Node.KafkaBootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }]);
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = Node.KafkaBootstrap, Acks = Acks.All, EnableIdempotence = false }).Build())
        {
            for (var i = 0; i < 10; i++)
            {
                // Retried by librdkafka while the new partition's leader is being elected.
                var result = await producer.ProduceAsync(topic, new Message<Null, string> { Value = $"v{i}" });
                Assert.Equal(i, result.Offset.Value);
            }
        }

        var partition = new TopicPartition(topic, 0);
        var config = new ConsumerConfig { BootstrapServers = Node.KafkaBootstrap, GroupId = group, EnableAutoCommit = false, AutoOffsetReset = AutoOffsetReset.Earliest };
        using (var first = new ConsumerBuilder<Null, string>(config).Build())
        {
            first.Assign(new TopicPartitionOffset(partition, Offset.Beginning));
            for (var i = 0; i < 4; i++) Assert.Equal($"v{i}", first.Consume(TimeSpan.FromSeconds(20))?.Message.Value);
            first.Commit([new TopicPartitionOffset(partition, 4)]);
            Assert.Equal(4, first.Committed([partition], TimeSpan.FromSeconds(10)).Single().Offset.Value);
            first.Close();
        }

        using var second = new ConsumerBuilder<Null, string>(config).Build();
        second.Assign(partition); // no offset given: start from the group's committed one
        var next = second.Consume(TimeSpan.FromSeconds(20));
        Assert.NotNull(next);
        Assert.Equal((4L, "v4"), (next.Offset.Value, next.Message.Value));
        second.Close();
    }

    [Fact]
    public async Task Two_Kafka_consumers_in_a_group_split_the_partitions_commit_and_one_takes_over_when_the_other_leaves()
    {
        const string topic = "kafka-group";
        var group = "group-" + Guid.NewGuid().ToString("N");
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Node.KafkaBootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 4, ReplicationFactor = 1 }]);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = Node.KafkaBootstrap, Acks = Acks.All, EnableIdempotence = false }).Build();
        async Task ProduceAsync(int from, int count)
        {
            var sends = new List<Task>();
            for (var i = from; i < from + count; i++)
                sends.Add(producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{i}", Value = $"v{i}" }));
            await Task.WhenAll(sends);
        }
        await ProduceAsync(0, 200);

        var config = new ConsumerConfig
        {
            BootstrapServers = Node.KafkaBootstrap,
            GroupId = group,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            SessionTimeoutMs = 10_000,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.Range,
        };
        var seen = new HashSet<string>();
        using var first = new ConsumerBuilder<string, string>(config).Build();
        var second = new ConsumerBuilder<string, string>(config).Build();
        try
        {
            first.Subscribe(topic);
            second.Subscribe(topic);
            void Poll(IConsumer<string, string> consumer)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (result?.Message is null) return;
                seen.Add(result.Message.Value);
                consumer.Commit(result);
            }

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (DateTime.UtcNow < deadline && (seen.Count < 200 || first.Assignment.Count == 0 || second.Assignment.Count == 0))
            {
                Poll(first);
                Poll(second);
            }
            output.WriteLine($"both members: seen {seen.Count}, first {string.Join(",", first.Assignment)}, second {string.Join(",", second.Assignment)}");
            Assert.Equal(200, seen.Count);
            Assert.Equal(2, first.Assignment.Count);
            Assert.Equal(2, second.Assignment.Count);
            Assert.Empty(first.Assignment.Intersect(second.Assignment));

            // One leaves (LeaveGroup): the other gets every partition and reads on from the committed offsets.
            second.Close();
            await ProduceAsync(200, 100);
            deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (DateTime.UtcNow < deadline && (seen.Count < 300 || first.Assignment.Count < 4)) Poll(first);
            output.WriteLine($"after the second left: seen {seen.Count}, first {string.Join(",", first.Assignment)}");
            Assert.Equal(300, seen.Count);
            Assert.Equal(4, first.Assignment.Count);

            var committed = first.Committed(first.Assignment, TimeSpan.FromSeconds(10));
            Assert.Equal(300, committed.Sum(c => c.Offset.Value));
            first.Close();
        }
        finally
        {
            second.Dispose();
        }
    }
}
