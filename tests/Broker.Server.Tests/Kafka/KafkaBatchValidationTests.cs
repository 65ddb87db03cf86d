using System.Buffers.Binary;
using System.Net.Sockets;
using Broker.Kafka.Messages;
using Broker.Protocol.Records;
using Xunit;
using Xunit.Abstractions;
using static Broker.Server.Tests.Kafka.KafkaListenerTests;

namespace Broker.Server.Tests.Kafka;

/// <summary>
/// Issue 16 through the Kafka door, on raw sockets: batches whose header MaxTimestamp is -1, 0 or far in the future
/// survive retention and ListOffsets answers from their records; LogAppendTime is what the consumer sees; a record
/// outside the timestamp window is refused with INVALID_TIMESTAMP and its index in RecordErrors (Produce v8).
/// </summary>
public sealed class KafkaBatchValidationTests(ITestOutputHelper output)
    : KafkaListenerTestKit(output, "broker.partition.retention-check-interval = 200ms")
{
    private static async Task<ProduceResponse.PartitionProduceResponse> ProduceAsync(Socket socket, string topic, byte[] batch)
    {
        await socket.SendAsync(Frame(ProduceRequest.Api, 8, 1, new ProduceRequest
        {
            Acks = -1, TimeoutMs = 10_000,
            TopicData = [new() { Name = topic, PartitionData = [new() { Index = 0, Records = batch }] }],
        }));
        var (_, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        return Parse(body, 8, ProduceResponse.Read).Responses[0].PartitionResponses[0];
    }

    private static async Task<long> OffsetForAsync(Socket socket, string topic, long timestamp)
    {
        await socket.SendAsync(Frame(ListOffsetsRequest.Api, 5, 2, new ListOffsetsRequest
        {
            ReplicaId = -1,
            Topics = [new() { Name = topic, Partitions = [new() { PartitionIndex = 0, Timestamp = timestamp }] }],
        }));
        var (_, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        var partition = Parse(body, 5, ListOffsetsResponse.Read).Topics[0].Partitions[0];
        Assert.Equal(0, partition.ErrorCode);
        return partition.Offset;
    }

    private static async Task<List<Broker.Protocol.Records.Record>> FetchAllAsync(Socket socket, string topic)
    {
        await socket.SendAsync(Frame(FetchRequest.Api, 11, 3, new FetchRequest
        {
            ReplicaId = -1, MaxWaitMs = 0, MinBytes = 0, MaxBytes = 1 << 20,
            Topics = [new() { Topic = topic, Partitions = [new() { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] }],
        }));
        var (_, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        var partition = Parse(body, 11, FetchResponse.Read).Responses[0].Partitions[0];
        Assert.Equal(0, partition.ErrorCode);
        return Records(partition.Records);
    }

    private static byte[] WithHeaderMax(byte[] batch, long headerMax)
    {
        BinaryPrimitives.WriteInt64BigEndian(batch.AsSpan(35), headerMax);
        BinaryPrimitives.WriteUInt32BigEndian(batch.AsSpan(17), Crc32C.Compute(batch.AsSpan(21)));
        return batch;
    }

    [Fact]
    public async Task Header_max_timestamps_a_client_got_wrong_survive_retention_and_ListOffsets_answers_from_the_records()
    {
        CreateTopic("gokafka", 1);
        using var socket = await ConnectAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long[] bases = [now - 30_000, now - 20_000, now - 10_000];
        long[] headerMaxes = [-1, 0, 4_102_444_800_000];
        for (var b = 0; b < 3; b++)
        {
            var produced = await ProduceAsync(socket, "gokafka", WithHeaderMax(Batch(3, $"b{b}-", bases[b]), headerMaxes[b]));
            Assert.Equal((0, b * 3L), (produced.ErrorCode, produced.BaseOffset));
        }

        // Retention runs every 200 ms here: a topic with retention.ms=60000 proves it ran, twice over.
        for (var round = 1; round <= 2; round++)
        {
            var control = $"control{round}";
            CreateTopic(control, 1, new() { ["retention.ms"] = "60000" });
            Produce(control, 0, Batch(3, timestamp: DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 3_600_000));
            Produce(control, 0, Batch(1));
            AwaitAssert(() => Assert.Equal(3, Request<Broker.Protocol.Messages.ListOffsetsResponse>(
                new Broker.Protocol.Messages.ListOffsetsRequest(control, 0, Broker.Protocol.Messages.OffsetSpec.Earliest)).Offset), TimeSpan.FromSeconds(15));
        }

        Assert.Equal(0, await OffsetForAsync(socket, "gokafka", -2)); // earliest: nothing was deleted
        Assert.Equal(9, (await FetchAllAsync(socket, "gokafka")).Count);
        Assert.Equal(2, await OffsetForAsync(socket, "gokafka", bases[0] + 2));
        Assert.Equal(4, await OffsetForAsync(socket, "gokafka", bases[1] + 1));
        Assert.Equal(6, await OffsetForAsync(socket, "gokafka", bases[2]));
        Assert.Equal(-1, await OffsetForAsync(socket, "gokafka", bases[2] + 3));
    }

    [Fact]
    public async Task A_LogAppendTime_topic_gives_the_append_time_to_the_producer_and_the_consumer()
    {
        CreateTopic("appendtime", 1, new() { ["message.timestamp.type"] = "LogAppendTime" });
        using var socket = await ConnectAsync();
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var produced = await ProduceAsync(socket, "appendtime", Batch(3, timestamp: 1_000));
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        Assert.Equal(0, produced.ErrorCode);
        Assert.InRange(produced.LogAppendTimeMs, before, after);
        var records = await FetchAllAsync(socket, "appendtime");
        Assert.Equal(3, records.Count);
        Assert.All(records, r => Assert.Equal(produced.LogAppendTimeMs, r.Timestamp));
    }

    [Fact]
    public async Task A_record_two_hours_ahead_gets_INVALID_TIMESTAMP_with_its_index_and_nothing_is_written()
    {
        CreateTopic("window", 1);
        using var socket = await ConnectAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var builder = new RecordBatchBuilder();
        builder.Append(now, [1], [1]);
        builder.Append(now + 7_200_000, [2], [2]);
        builder.Append(now, [3], [3]);

        var refused = await ProduceAsync(socket, "window", builder.Build());

        Assert.Equal(32, refused.ErrorCode); // INVALID_TIMESTAMP
        Assert.Equal(1, Assert.Single(refused.RecordErrors).BatchIndex);
        Assert.Contains("message.timestamp.after.max.ms", refused.ErrorMessage);
        Assert.Equal(0, (await ProduceAsync(socket, "window", Batch(2))).BaseOffset);
        Assert.Equal(2, (await FetchAllAsync(socket, "window")).Count);
    }
}
