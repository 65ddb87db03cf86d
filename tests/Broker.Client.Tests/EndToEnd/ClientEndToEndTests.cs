using System.Globalization;
using System.Diagnostics;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Xunit;
using Xunit.Abstractions;
using static Broker.Client.Tests.Fakes.Batches;

namespace Broker.Client.Tests.EndToEnd;

/// <summary>Producer, consumer and admin client against a real node over Akka.Remote.</summary>
[Collection(NodeCollection.Name)]
public sealed class ClientEndToEndTests(NodeFixture node, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private AdminClient Admin() => new(new ClientConfig { BootstrapServers = node.Bootstrap });

    private static string NewTopic(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..24];

    private async Task<string> CreateTopic(string prefix, int partitions)
    {
        var name = NewTopic(prefix);
        await using var admin = Admin();
        var result = Assert.Single(await admin.CreateTopicsAsync([new TopicSpec(name, partitions, 1, new Dictionary<string, string>())]));
        Assert.Equal(ErrorCode.None, result.Error);
        return name;
    }

    private static List<ConsumeResult> Read(Consumer consumer, int count)
    {
        var results = new List<ConsumeResult>(count);
        while (results.Count < count)
        {
            var next = consumer.Consume(Wait);
            Assert.True(next is not null, $"only {results.Count} of {count} records arrived");
            results.Add(next);
        }
        return results;
    }

    [Fact]
    public async Task Keyed_records_are_consumed_back_in_produce_order_per_partition()
    {
        var topic = await CreateTopic("orders", 3);
        await using (var producer = new Producer(new ProducerConfig { BootstrapServers = node.Bootstrap }))
        {
            var deliveries = new List<Task<DeliveryResult>>();
            for (var i = 0; i < 3000; i++)
                deliveries.Add(producer.ProduceAsync(topic, new Message { Key = Bytes($"customer-{i % 50}"), Value = Bytes($"{i}") }));
            var results = await Task.WhenAll(deliveries).WaitAsync(Wait);
            for (var i = 0; i < results.Length; i++)
                Assert.Equal(KeyPartitioner.Partition(Bytes($"customer-{i % 50}"), 3), results[i].Partition);
        }

        using var consumer = new Consumer(new ConsumerConfig { BootstrapServers = node.Bootstrap });
        consumer.Assign([new(topic, 0, Offset.Beginning), new(topic, 1, Offset.Beginning), new(topic, 2, Offset.Beginning)]);
        var consumed = Read(consumer, 3000);
        Assert.Null(consumer.Consume(TimeSpan.FromMilliseconds(200)));
        foreach (var group in consumed.GroupBy(r => Text(r.Key)))
        {
            var values = group.Select(r => int.Parse(Text(r.Value), CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(values.Order(), values);
            Assert.All(group, r => Assert.Equal(KeyPartitioner.Partition(r.Key!, 3), r.Partition));
        }
        foreach (var partition in consumed.GroupBy(r => r.Partition))
            Assert.Equal(Enumerable.Range(0, partition.Count()).Select(i => (long)i), partition.Select(r => r.Offset));
    }

    [Fact]
    public async Task Metadata_lists_the_topic_with_its_partitions_and_end_offsets()
    {
        var topic = await CreateTopic("meta", 2);
        await using (var producer = new Producer(new ProducerConfig { BootstrapServers = node.Bootstrap }))
        {
            for (var i = 0; i < 5; i++) await producer.ProduceAsync(topic, 1, new Message { Value = Bytes($"{i}") });
        }
        await using var admin = Admin();
        var metadata = await admin.GetMetadataAsync([topic]);
        var broker = Assert.Single(metadata.Brokers);
        Assert.Equal("Up", broker.Status);
        var described = Assert.Single(metadata.Topics);
        Assert.Equal(ErrorCode.None, described.Error);
        Assert.Equal(2, described.Partitions.Count);
        Assert.Equal(0, described.Partitions[0].LogEndOffset);
        Assert.Equal(5, described.Partitions[1].LogEndOffset);

        var all = await admin.GetMetadataAsync();
        Assert.Contains(all.Topics, t => t.Name == topic);
        var status = await admin.GetClusterStatusAsync();
        Assert.Single(status.Brokers);
    }

    [Fact]
    public async Task ListOffsets_finds_earliest_latest_and_by_timestamp()
    {
        var topic = await CreateTopic("offsets", 1);
        var start = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        await using (var producer = new Producer(new ProducerConfig { BootstrapServers = node.Bootstrap }))
        {
            for (var i = 0; i < 10; i++) await producer.ProduceAsync(topic, new Message { Value = Bytes($"{i}"), Timestamp = start.AddSeconds(i) });
        }
        await using var admin = Admin();
        Assert.Equal(0, (await admin.ListOffsetsAsync(topic, 0, OffsetSpec.Earliest)).Offset);
        Assert.Equal(10, (await admin.ListOffsetsAsync(topic, 0, OffsetSpec.Latest)).Offset);
        var byTime = await admin.ListOffsetsAsync(topic, 0, start.AddSeconds(4).ToUnixTimeMilliseconds());
        Assert.Equal(4, byTime.Offset);
        Assert.Equal(-1, (await admin.ListOffsetsAsync(topic, 0, start.AddDays(1).ToUnixTimeMilliseconds())).Offset);
    }

    [Fact]
    public async Task Unknown_topics_fail_with_UnknownTopic_everywhere()
    {
        await using (var producer = new Producer(new ProducerConfig { BootstrapServers = node.Bootstrap }))
        {
            var error = await Assert.ThrowsAsync<BrokerException>(() => producer.ProduceAsync("no-such-topic", new Message { Value = Bytes("v") }));
            Assert.Equal(ErrorCode.UnknownTopic, error.Error);
            Assert.Contains("broker topics create no-such-topic", error.Message);
        }
        await using var admin = Admin();
        Assert.Equal(ErrorCode.UnknownTopic, Assert.Single((await admin.GetMetadataAsync(["no-such-topic"])).Topics).Error);
        Assert.Equal(ErrorCode.UnknownTopic, (await Assert.ThrowsAsync<BrokerException>(() => admin.ListOffsetsAsync("no-such-topic", 0, OffsetSpec.Latest))).Error);
        Assert.Equal(ErrorCode.UnknownTopic, Assert.Single(await admin.DeleteTopicsAsync(["no-such-topic"])).Error);

        using var consumer = new Consumer(new ConsumerConfig { BootstrapServers = node.Bootstrap });
        consumer.Assign([new("no-such-topic", 0, 0)]);
        Assert.Equal(ErrorCode.UnknownTopic, Assert.Throws<BrokerException>(() => consumer.Consume(Wait)).Error);
    }

    [Fact]
    public async Task Creating_an_existing_topic_reports_TopicAlreadyExists_and_delete_removes_it()
    {
        var topic = await CreateTopic("dup", 1);
        await using var admin = Admin();
        var again = Assert.Single(await admin.CreateTopicsAsync([new TopicSpec(topic, 1, 1, new Dictionary<string, string>())]));
        Assert.Equal(ErrorCode.TopicAlreadyExists, again.Error);
        Assert.Equal(ErrorCode.None, Assert.Single(await admin.DeleteTopicsAsync([topic])).Error);
        Assert.Equal(ErrorCode.UnknownTopic, Assert.Single((await admin.GetMetadataAsync([topic])).Topics).Error);
    }

    [Fact]
    public async Task Consuming_past_the_end_fails_with_OffsetOutOfRange_naming_the_valid_range()
    {
        var topic = await CreateTopic("range", 1);
        await using (var producer = new Producer(new ProducerConfig { BootstrapServers = node.Bootstrap }))
        {
            await producer.ProduceAsync(topic, new Message { Value = Bytes("only") });
        }
        using var consumer = new Consumer(new ConsumerConfig { BootstrapServers = node.Bootstrap });
        consumer.Assign([new(topic, 0, 5)]);
        var error = Assert.Throws<BrokerException>(() => consumer.Consume(Wait));
        Assert.Equal(ErrorCode.OffsetOutOfRange, error.Error);
        Assert.Contains("0 (log start) to 1 (high watermark)", error.Message);
        consumer.Seek(new(topic, 0, 0));
        Assert.Equal("only", Text(consumer.Consume(Wait)!.Value));
    }

    [Fact]
    public async Task A_consumer_at_the_end_receives_records_produced_later()
    {
        var topic = await CreateTopic("tail", 1);
        using var consumer = new Consumer(new ConsumerConfig { BootstrapServers = node.Bootstrap, FetchMaxWaitMs = 2000 });
        consumer.Assign([new(topic, 0, Offset.End)]);
        Assert.Equal(0, consumer.Position(new TopicPartition(topic, 0)));
        Assert.Null(consumer.Consume(TimeSpan.FromMilliseconds(300)));
        await using (var producer = new Producer(new ProducerConfig { BootstrapServers = node.Bootstrap, Acks = Acks.None }))
        {
            var sent = await producer.ProduceAsync(topic, new Message { Value = Bytes("late"), Headers = [new RecordHeader("h", Bytes("x"))] });
            Assert.Equal(-1, sent.Offset);
        }
        var record = consumer.Consume(Wait);
        Assert.NotNull(record);
        Assert.Equal("late", Text(record.Value));
        Assert.Equal("x", Text(Assert.Single(record.Headers).Value));
    }

    [Fact]
    public async Task No_reachable_broker_fails_with_BrokerNotAvailable_saying_how_to_start_one()
    {
        var port = NodeFixture.FreePort();
        await using var admin = new AdminClient(new ClientConfig { BootstrapServers = $"127.0.0.1:{port}", ConnectTimeout = TimeSpan.FromSeconds(1) });
        var error = await Assert.ThrowsAsync<BrokerException>(() => admin.GetMetadataAsync());
        Assert.Equal(ErrorCode.BrokerNotAvailable, error.Error);
        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("broker node", error.Message);
    }

    [Fact]
    public async Task Bootstrap_skips_an_address_without_a_broker()
    {
        var dead = NodeFixture.FreePort();
        await using var admin = new AdminClient(new ClientConfig { BootstrapServers = $"127.0.0.1:{dead},{node.Bootstrap}", ConnectTimeout = TimeSpan.FromSeconds(1) });
        Assert.Single((await admin.GetClusterStatusAsync()).Brokers);
    }

    [Fact]
    public async Task Producer_and_consumer_move_many_small_records_quickly()
    {
        const int count = 200_000;
        var topic = await CreateTopic("perf", 4);
        var value = new byte[100];
        var clock = Stopwatch.StartNew();
        var failed = 0;
        await using (var producer = new Producer(new ProducerConfig { BootstrapServers = node.Bootstrap }))
        {
            for (var i = 0; i < count; i++)
                producer.Produce(topic, new Message { Value = value }, (_, e) => { if (e is not null) Interlocked.Increment(ref failed); });
            await producer.FlushAsync().WaitAsync(TimeSpan.FromMinutes(2));
        }
        var produceSeconds = clock.Elapsed.TotalSeconds;
        Assert.Equal(0, failed);

        clock.Restart();
        using var consumer = new Consumer(new ConsumerConfig { BootstrapServers = node.Bootstrap });
        consumer.Assign([new(topic, 0, 0), new(topic, 1, 0), new(topic, 2, 0), new(topic, 3, 0)]);
        var consumed = 0;
        while (consumed < count && consumer.Consume(Wait) is not null) consumed++;
        var consumeSeconds = clock.Elapsed.TotalSeconds;
        Assert.Equal(count, consumed);
        output.WriteLine($"produce: {count / produceSeconds:N0} records/s; consume: {count / consumeSeconds:N0} records/s (100-byte values, debug build, node in-process)");
    }
}
