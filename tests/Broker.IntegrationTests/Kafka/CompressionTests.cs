using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit;
using Xunit.Abstractions;
using Codec = Broker.Protocol.Records.Compression.CompressionCodec;

namespace Broker.IntegrationTests.Kafka;

/// <summary>
/// Compressed batches across clients on one real node: librdkafka (Confluent.Kafka, kcat) and our producer write
/// gzip, snappy, lz4 and zstd; librdkafka and our consumer read them back. Every topic has max.message.bytes=4096 and
/// a 12 KB record that compresses to a few hundred bytes, so the node can only have accepted it compressed.
/// </summary>
public sealed class CompressionTests(OneNodeFixture node, ITestOutputHelper output) : IClassFixture<OneNodeFixture>
{
    private const int Partitions = 2;
    private const int Records = 200;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public async Task Kafka_producer_compressed_batches_are_read_back_by_a_Kafka_consumer_and_by_our_consumer(CompressionType codec)
    {
        var topic = await CreateTopicAsync($"librdkafka-{codec}");
        var delivered = new List<DeliveryResult<string, string>>();
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            // Idempotence on, as Kafka clients default to: sequence checks read the uncompressed header only.
            BootstrapServers = node.Process.KafkaBootstrap, Acks = Acks.All, EnableIdempotence = true,
            CompressionType = codec, LingerMs = 50,
        }).Build())
        {
            var sends = Expected().Select(r => producer.ProduceAsync(topic, new Message<string, string> { Key = r.Key, Value = r.Value })).ToList();
            delivered.AddRange(await Task.WhenAll(sends));
        }
        foreach (var byPartition in delivered.GroupBy(d => d.Partition.Value))
            Assert.Equal(Enumerable.Range(0, byPartition.Count()).Select(i => (long)i), byPartition.Select(d => d.Offset.Value).Order());
        var written = delivered.ToDictionary(d => (d.Partition.Value, d.Offset.Value), d => (d.Message.Key, d.Message.Value));

        Assert.Equal(written, ReadWithKafkaConsumer(topic));
        Assert.Equal(written, ReadWithOurConsumer(topic));
    }

    [Theory]
    [InlineData(Codec.Gzip)]
    [InlineData(Codec.Snappy)]
    [InlineData(Codec.Lz4)]
    [InlineData(Codec.Zstd)]
    public async Task Our_producer_with_compression_type_is_read_back_by_a_Kafka_consumer_and_by_our_consumer(Codec codec)
    {
        var topic = await CreateTopicAsync($"native-{codec}");
        var written = new Dictionary<(int, long), (string, string)>();
        await using (var producer = new Broker.Client.Producer(new Broker.Client.ProducerConfig
        {
            BootstrapServers = node.Process.Bootstrap, Acks = Broker.Client.Acks.All, LingerMs = 50, CompressionType = codec,
        }))
        {
            var sends = Expected().Select(async r =>
            {
                var result = await producer.ProduceAsync(topic, new Broker.Client.Message { Key = Encoding.UTF8.GetBytes(r.Key), Value = Encoding.UTF8.GetBytes(r.Value) });
                return (result.Partition, result.Offset, r.Key, r.Value);
            }).ToList();
            foreach (var (partition, offset, key, value) in await Task.WhenAll(sends)) written[(partition, offset)] = (key, value);
        }
        Assert.Equal(Records, written.Count);

        Assert.Equal(written, ReadWithKafkaConsumer(topic));
        Assert.Equal(written, ReadWithOurConsumer(topic));
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("snappy")]
    [InlineData("lz4")]
    [InlineData("zstd")]
    public async Task Kcat_compressed_lines_are_read_back_by_our_consumer(string codec)
    {
        var topic = await CreateTopicAsync($"kcat-{codec}");
        var lines = string.Join("\n", Expected().Select(r => $"{r.Key}|{r.Value}")) + "\n";

        var produced = await Kcat.RunAsync(lines, Timeout, "-b", node.Process.KafkaBootstrap, "-P", "-t", topic, "-K|", "-z", codec, "-X", "acks=all", "-X", "linger.ms=50");
        output.WriteLine(produced.Errors);
        Assert.Equal(0, produced.ExitCode);
        Assert.DoesNotContain("ERROR", produced.Errors);

        var read = ReadWithOurConsumer(topic);
        Assert.Equal(Expected().Select(r => (r.Key, r.Value)).Order(), read.Values.Order());
        foreach (var partition in read.Keys.GroupBy(k => k.Partition))
            Assert.Equal(Enumerable.Range(0, partition.Count()).Select(i => (long)i), partition.Select(k => k.Offset).Order());
    }

    [Fact]
    public async Task The_12_KB_record_uncompressed_is_refused_so_the_tests_above_prove_their_batches_were_stored_compressed()
    {
        var topic = await CreateTopicAsync("uncompressed");
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = node.Process.KafkaBootstrap, Acks = Acks.All, EnableIdempotence = false, CompressionType = CompressionType.None,
        }).Build();
        var big = Expected().ElementAt(Records / 2);

        var refused = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
            producer.ProduceAsync(topic, new Message<string, string> { Key = big.Key, Value = big.Value }));

        Assert.Equal(ErrorCode.MsgSizeTooLarge, refused.Error.Code);
    }

    // Keyed, compressible records; one is 12 KB, three times the topics' max.message.bytes uncompressed.
    private static IEnumerable<(string Key, string Value)> Expected() =>
        Enumerable.Range(0, Records).Select(i => ($"customer-{i % 10}",
            i == Records / 2 ? $"big-{i}-" + new string('z', 12_000) : $"order-{i} of customer {i % 10}: the same words in every record"));

    private async Task<string> CreateTopicAsync(string name)
    {
        var topic = name.ToLowerInvariant();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = node.Process.KafkaBootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification
        {
            Name = topic, NumPartitions = Partitions, ReplicationFactor = 1,
            Configs = new Dictionary<string, string> { ["max.message.bytes"] = "4096" },
        }]);
        await Broker.Tests.Eventually.TrueAsync(() =>
        {
            var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(20)).Topics.Single().Partitions;
            return Task.FromResult(partitions.Count == Partitions && partitions.All(p => p.Leader == node.Process.NodeId));
        }, Timeout, $"every partition of {topic} to have a leader");
        return topic;
    }

    private Dictionary<(int Partition, long Offset), (string Key, string Value)> ReadWithKafkaConsumer(string topic)
    {
        var read = new Dictionary<(int, long), (string, string)>();
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = node.Process.KafkaBootstrap, GroupId = "unused-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false, EnableAutoOffsetStore = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var clock = Stopwatch.StartNew();
        while (read.Count < Records && clock.Elapsed < Timeout)
        {
            if (consumer.Consume(TimeSpan.FromSeconds(1)) is { Message: { } m } r) read[(r.Partition.Value, r.Offset.Value)] = (m.Key, m.Value);
        }
        consumer.Close();
        output.WriteLine($"{topic}: the Kafka consumer read {read.Count} of {Records}");
        return read;
    }

    private Dictionary<(int Partition, long Offset), (string Key, string Value)> ReadWithOurConsumer(string topic)
    {
        var read = new Dictionary<(int, long), (string, string)>();
        using var consumer = new Broker.Client.Consumer(new Broker.Client.ConsumerConfig { BootstrapServers = node.Process.Bootstrap, FetchMaxWaitMs = 100 });
        consumer.Assign(Enumerable.Range(0, Partitions).Select(p => new Broker.Client.TopicPartitionOffset(topic, p, 0)).ToList());
        var clock = Stopwatch.StartNew();
        while (read.Count < Records && clock.Elapsed < Timeout)
        {
            if (consumer.Consume(TimeSpan.FromSeconds(1)) is { } r)
                read[(r.Partition, r.Offset)] = (Encoding.UTF8.GetString(r.Key!), Encoding.UTF8.GetString(r.Value!));
        }
        output.WriteLine($"{topic}: our consumer read {read.Count} of {Records}");
        return read;
    }
}
