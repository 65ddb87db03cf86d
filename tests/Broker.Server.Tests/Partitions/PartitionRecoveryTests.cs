using Akka.Actor;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Partitions;

/// <summary>
/// Restarts, snapshots, reads older than the tail cache, and retention, each on a real SQLite file.
/// Each test runs its own node ActorSystems on a fresh data directory so it can stop and restart them.
/// </summary>
public sealed class PartitionRecoveryTests(ITestOutputHelper output) : NodeTestKit(output)
{
    private const string SmallNode = """
        broker.partition.snapshot-every-batches = 5
        broker.partition.tail-cache-bytes = 2000
        broker.partition.retention-check-interval = 200ms
        """;

    private static (ActorSystem System, IActorRef Gateway) StartNodeOn(string dataDir, string hocon = SmallNode)
    {
        var system = ActorSystem.Create("broker", NodeConfigFor(dataDir, hocon));
        return (system, StartNode(system));
    }

    private T Ask<T>((ActorSystem System, IActorRef Gateway) node, object request) => Request<T>(node.Gateway, request, system: node.System);

    private void CreateTopicOn((ActorSystem System, IActorRef Gateway) node, string name, int partitions, Dictionary<string, string>? configs = null)
    {
        var r = Ask<CreateTopicsResponse>(node, new CreateTopicsRequest([new TopicSpec(name, partitions, 1, configs ?? new())]));
        Assert.Equal(ErrorCode.None, r.Results[0].Error);
    }

    private List<string> ReadAll((ActorSystem System, IActorRef Gateway) node, string topic, int partition)
    {
        var values = new List<string>();
        long offset = Ask<ListOffsetsResponse>(node, new ListOffsetsRequest(topic, partition, OffsetSpec.Earliest)).Offset;
        var end = Ask<ListOffsetsResponse>(node, new ListOffsetsRequest(topic, partition, OffsetSpec.Latest)).Offset;
        while (offset < end)
        {
            var fetched = Ask<FetchResponse>(node, new FetchRequest(topic, partition, offset, 4000, 0));
            Assert.Equal(ErrorCode.None, fetched.Error);
            foreach (var record in Records(fetched.Records))
            {
                if (record.Offset < offset) continue;
                values.Add($"{record.Offset}:{Text(record.Value)}");
                offset = record.Offset + 1;
            }
        }
        return values;
    }

    [Fact]
    public void Restarted_node_serves_every_acknowledged_record_at_the_same_offset()
    {
        var dir = NewDataDir();
        var first = StartNodeOn(dir);
        CreateTopicOn(first, "durable", 2);
        var expected = new List<string>();
        for (var b = 0; b < 23; b++)
        {
            var result = Produce("durable", 0, Batch(3, $"b{b}-"), first.Gateway, first.System);
            Assert.Equal(b * 3, result.BaseOffset);
            for (var i = 0; i < 3; i++) expected.Add($"{b * 3 + i}:b{b}-{i}");
        }
        Assert.Equal(expected, ReadAll(first, "durable", 0));
        Shutdown(first.System, TimeSpan.FromSeconds(20), verifySystemShutdown: true);

        var second = StartNodeOn(dir);
        try
        {
            // Recovery from the snapshot plus the events after it; the old batches are read back from the journal.
            Assert.Equal(expected, ReadAll(second, "durable", 0));
            Assert.Equal(69, Produce("durable", 0, Batch(1), second.Gateway, second.System).BaseOffset);
        }
        finally
        {
            Shutdown(second.System, TimeSpan.FromSeconds(20), verifySystemShutdown: true);
        }
    }

    [Fact]
    public void Fetch_older_than_the_tail_cache_reads_the_journal()
    {
        var node = StartNodeOn(NewDataDir());
        try
        {
            CreateTopicOn(node, "cold", 1);
            for (var b = 0; b < 10; b++) Produce("cold", 0, Batch(2, valueSize: 300), node.Gateway, node.System);
            var fetched = Ask<FetchResponse>(node, new FetchRequest("cold", 0, 0, 1000, 0));
            Assert.Equal(ErrorCode.None, fetched.Error);
            Assert.Equal(0, Records(fetched.Records)[0].Offset);
            Assert.Equal(20, ReadAll(node, "cold", 0).Count);
        }
        finally
        {
            Shutdown(node.System, TimeSpan.FromSeconds(20), verifySystemShutdown: true);
        }
    }

    [Fact]
    public void Deleting_records_moves_log_start_into_a_batch_refuses_uncommitted_offsets_and_survives_restart()
    {
        var dir = NewDataDir();
        var node = StartNodeOn(dir);
        try
        {
            CreateTopicOn(node, "trimmed", 1);
            for (var b = 0; b < 4; b++) Produce("trimmed", 0, Batch(2, prefix: $"b{b}-"), node.Gateway, node.System); // offsets 0-7
            var beyond = Ask<DeleteRecordsResponse>(node, new DeleteRecordsRequest("trimmed", 0, 9));
            Assert.Equal(ErrorCode.OffsetOutOfRange, beyond.Error);
            Assert.Contains("high watermark 8", beyond.ErrorMessage);

            // Offset 3 is inside the second batch (2-3): the first batch goes, the log starts at 3.
            var deleted = Ask<DeleteRecordsResponse>(node, new DeleteRecordsRequest("trimmed", 0, 3));
            Assert.Equal((ErrorCode.None, 3L), (deleted.Error, deleted.LowWatermark));
            Assert.Equal(3, Ask<ListOffsetsResponse>(node, new ListOffsetsRequest("trimmed", 0, OffsetSpec.Earliest)).Offset);
            Assert.Equal(ErrorCode.OffsetOutOfRange, Ask<FetchResponse>(node, new FetchRequest("trimmed", 0, 2, 4000, 0)).Error);
            Assert.Equal(["3:b1-1", "4:b2-0", "5:b2-1", "6:b3-0", "7:b3-1"], ReadAll(node, "trimmed", 0));
            // Below the log start: nothing to do, the answer is the log start.
            Assert.Equal((ErrorCode.None, 3L), (Ask<DeleteRecordsResponse>(node, new DeleteRecordsRequest("trimmed", 0, 1)).Error, Ask<DeleteRecordsResponse>(node, new DeleteRecordsRequest("trimmed", 0, 1)).LowWatermark));
            Assert.Equal(ErrorCode.UnknownPartition, Ask<DeleteRecordsResponse>(node, new DeleteRecordsRequest("trimmed", 5, 1)).Error);
        }
        finally
        {
            Shutdown(node.System, TimeSpan.FromSeconds(20), verifySystemShutdown: true);
        }

        var restarted = StartNodeOn(dir);
        try
        {
            Assert.Equal(3, Ask<ListOffsetsResponse>(restarted, new ListOffsetsRequest("trimmed", 0, OffsetSpec.Earliest)).Offset);
            Assert.Equal(["3:b1-1", "4:b2-0", "5:b2-1", "6:b3-0", "7:b3-1"], ReadAll(restarted, "trimmed", 0));
            // -1: everything committed.
            Assert.Equal(8, Ask<DeleteRecordsResponse>(restarted, new DeleteRecordsRequest("trimmed", 0, -1)).LowWatermark);
            Assert.Empty(ReadAll(restarted, "trimmed", 0));
        }
        finally
        {
            Shutdown(restarted.System, TimeSpan.FromSeconds(20), verifySystemShutdown: true);
        }
    }

    [Fact]
    public void Retention_by_bytes_moves_log_start_and_survives_restart()
    {
        var dir = NewDataDir();
        var node = StartNodeOn(dir);
        try
        {
            CreateTopicOn(node, "short", 1, new() { ["retention.bytes"] = "3000" });
            for (var b = 0; b < 10; b++) Produce("short", 0, Batch(2, valueSize: 500), node.Gateway, node.System);
            AwaitAssert(() => Assert.True(Ask<ListOffsetsResponse>(node, new ListOffsetsRequest("short", 0, OffsetSpec.Earliest)).Offset >= 14),
                TimeSpan.FromSeconds(10));
            var below = Ask<FetchResponse>(node, new FetchRequest("short", 0, 0, 1000, 0));
            Assert.Equal(ErrorCode.OffsetOutOfRange, below.Error);
            Assert.Contains("log start", below.ErrorMessage);
        }
        finally
        {
            Shutdown(node.System, TimeSpan.FromSeconds(20), verifySystemShutdown: true);
        }

        var restarted = StartNodeOn(dir);
        try
        {
            var start = Ask<ListOffsetsResponse>(restarted, new ListOffsetsRequest("short", 0, OffsetSpec.Earliest)).Offset;
            Assert.True(start >= 14, $"log start {start} went back after restart");
            Assert.Equal(20 - start, ReadAll(restarted, "short", 0).Count);
        }
        finally
        {
            Shutdown(restarted.System, TimeSpan.FromSeconds(20), verifySystemShutdown: true);
        }
    }

    [Fact]
    public void Retention_by_time_removes_old_batches()
    {
        var node = StartNodeOn(NewDataDir());
        try
        {
            CreateTopicOn(node, "aged", 1, new() { ["retention.ms"] = "60000" });
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            Produce("aged", 0, Batch(3, timestamp: now - 3_600_000), node.Gateway, node.System);
            Produce("aged", 0, Batch(2, timestamp: now), node.Gateway, node.System);
            AwaitAssert(() => Assert.Equal(3, Ask<ListOffsetsResponse>(node, new ListOffsetsRequest("aged", 0, OffsetSpec.Earliest)).Offset),
                TimeSpan.FromSeconds(10));
            Assert.Equal(["3:v0", "4:v1"], ReadAll(node, "aged", 0));
        }
        finally
        {
            Shutdown(node.System, TimeSpan.FromSeconds(20), verifySystemShutdown: true);
        }
    }
}
