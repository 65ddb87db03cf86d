using Broker.Client.Tests.Fakes;
using Broker.Protocol;
using Broker.Protocol.Records;
using Xunit;
using static Broker.Client.Tests.Fakes.Batches;

namespace Broker.Client.Tests.Producing;

/// <summary>Which partition a record goes to: murmur2 of the key, the one asked for, or the sticky partition.</summary>
public sealed class PartitionSelectionTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Keyed_records_go_to_the_murmur2_partition_of_their_key()
    {
        var transport = new FakeTransport().WithTopic("t", 7);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 0 }, transport);
        var tasks = new List<(string Key, Task<DeliveryResult> Result)>();
        for (var i = 0; i < 200; i++)
        {
            var key = $"customer-{i}";
            tasks.Add((key, producer.ProduceAsync("t", new Message { Key = Bytes(key), Value = Bytes($"v{i}") })));
        }
        var partitions = new HashSet<int>();
        foreach (var (key, result) in tasks)
        {
            var delivered = await result.WaitAsync(Wait);
            Assert.Equal(KeyPartitioner.Partition(Bytes(key), 7), delivered.Partition);
            partitions.Add(delivered.Partition);
        }
        Assert.True(partitions.Count > 3);
    }

    [Fact]
    public async Task Explicit_partition_is_honoured_over_the_key()
    {
        var transport = new FakeTransport().WithTopic("t", 4);
        await using var producer = new Producer(new ProducerConfig { LingerMs = 0 }, transport);
        for (var i = 0; i < 20; i++)
        {
            var delivered = await producer.ProduceAsync("t", 3, new Message { Key = Bytes($"k{i}"), Value = Bytes("v") }).WaitAsync(Wait);
            Assert.Equal(3, delivered.Partition);
        }
        Assert.All(Sent(transport.Produced), b => Assert.Equal(3, b.Partition));
    }

    [Fact]
    public async Task Explicit_partition_outside_the_topic_fails_with_UnknownPartition_without_sending()
    {
        var transport = new FakeTransport().WithTopic("t", 2);
        await using var producer = new Producer(new ProducerConfig(), transport);
        var high = await Assert.ThrowsAsync<BrokerException>(() => producer.ProduceAsync("t", 2, new Message { Value = Bytes("v") }));
        var negative = await Assert.ThrowsAsync<BrokerException>(() => producer.ProduceAsync("t", -1, new Message { Value = Bytes("v") }));
        Assert.Equal(ErrorCode.UnknownPartition, high.Error);
        Assert.Contains("partitions 0 to 1", high.Message);
        Assert.Equal(ErrorCode.UnknownPartition, negative.Error);
        Assert.Empty(transport.Produced);
    }

    [Fact]
    public async Task Keyless_records_stick_to_one_partition_per_batch_and_spread_across_batches()
    {
        var transport = new FakeTransport().WithTopic("t", 8);
        // About 5 records of 100 bytes fit a 600-byte batch; a long linger means only full batches are sent.
        await using var producer = new Producer(new ProducerConfig { BatchSize = 600, LingerMs = 60_000 }, transport);
        var pending = new List<Task<DeliveryResult>>();
        for (var i = 0; i < 200; i++) pending.Add(producer.ProduceAsync("t", new Message { Value = new byte[100] }));
        await producer.FlushAsync().WaitAsync(Wait);
        var results = await Task.WhenAll(pending);

        var batches = Sent(transport.Produced);
        Assert.True(batches.Count >= 30, $"expected many batches, got {batches.Count}");
        // Consecutive keyless records share a partition until their batch closes, so switches <= batches.
        var switches = 0;
        for (var i = 1; i < results.Length; i++)
            if (results[i].Partition != results[i - 1].Partition) switches++;
        Assert.True(switches < batches.Count, $"{switches} partition switches for {batches.Count} batches");
        // And the sticky partition moves on after each batch, so many partitions get data.
        Assert.True(batches.Select(b => b.Partition).Distinct().Count() >= 4);
        for (var i = 1; i < batches.Count; i++) Assert.NotEqual(batches[i - 1].Partition, batches[i].Partition);
    }
}
