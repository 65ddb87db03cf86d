using System.Buffers.Binary;
using Akka.Actor;
using Akka.Persistence;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Protocol.Records.Compression;
using Broker.Server.Partitions;
using Broker.Tests.Shared;
using Xunit;
using Xunit.Abstractions;
using Record = Broker.Protocol.Records.Record;

namespace Broker.Server.Tests.Partitions;

/// <summary>
/// Batch validation on a real node (issue 16): header timestamps a client got wrong never let retention delete
/// records, LogAppendTime stamps the node's clock, refused batches write nothing, and a journal written before
/// validation keeps its records after an upgrade.
/// </summary>
public sealed class BatchValidationNodeTests(ITestOutputHelper output) : NodeTestKit(output)
{
    private const string Hocon = """
        broker.partition.retention-check-interval = 200ms
        broker.limits.max-decompressed-batch-bytes = 4194304
        """;

    private static (ActorSystem System, IActorRef Gateway) StartNodeOn(string dataDir)
    {
        var system = ActorSystem.Create("broker", NodeConfigFor(dataDir, Hocon));
        return (system, StartNode(system));
    }

    private T Ask<T>((ActorSystem System, IActorRef Gateway) node, object request) => Request<T>(node.Gateway, request, system: node.System);

    private void CreateTopicOn((ActorSystem System, IActorRef Gateway) node, string name, Dictionary<string, string>? configs = null)
    {
        var r = Ask<CreateTopicsResponse>(node, new CreateTopicsRequest([new TopicSpec(name, 1, 1, configs ?? new())]));
        Assert.Equal(ErrorCode.None, r.Results[0].Error);
    }

    private long Offset((ActorSystem System, IActorRef Gateway) node, string topic, long spec) =>
        Ask<ListOffsetsResponse>(node, new ListOffsetsRequest(topic, 0, spec)).Offset;

    /// <summary>
    /// A batch of 3 records at <paramref name="first"/>, +1, +2 whose header says <paramref name="headerMax"/>, as
    /// an older Go client left it (CRC made to match, so only the timestamp is wrong).
    /// </summary>
    private static byte[] BatchWithHeaderMax(long first, long headerMax, string prefix)
    {
        var batch = Batch(3, prefix, first);
        BinaryPrimitives.WriteInt64BigEndian(batch.AsSpan(35), headerMax);
        BinaryPrimitives.WriteUInt32BigEndian(batch.AsSpan(17), Crc32C.Compute(batch.AsSpan(21)));
        return batch;
    }

    /// <summary>
    /// Proves retention ran on this node meanwhile, twice over: a topic with retention.ms=60000 gets a batch an hour
    /// old and a fresh one, and its log start moves past the old one; then a second such topic, created after that.
    /// </summary>
    private void AwaitRetentionChecks((ActorSystem System, IActorRef Gateway) node)
    {
        for (var round = 1; round <= 2; round++)
        {
            var control = $"control{round}";
            CreateTopicOn(node, control, new() { ["retention.ms"] = "60000" });
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            Produce(control, 0, Batch(3, timestamp: now - 3_600_000), node.Gateway, node.System);
            Produce(control, 0, Batch(1, timestamp: now), node.Gateway, node.System);
            AwaitAssert(() => Assert.Equal(3, Offset(node, control, OffsetSpec.Earliest)), TimeSpan.FromSeconds(15));
        }
    }

    private List<Record> ReadAll((ActorSystem System, IActorRef Gateway) node, string topic)
    {
        var fetched = Ask<FetchResponse>(node, new FetchRequest(topic, 0, 0, 1 << 20, 0));
        Assert.Equal(ErrorCode.None, fetched.Error);
        return Records(fetched.Records);
    }

    [Fact]
    public void Header_max_timestamps_of_minus_one_zero_or_the_far_future_neither_expire_records_nor_steer_ListOffsets()
    {
        var node = StartNodeOn(NewDataDir());
        try
        {
            CreateTopicOn(node, "headers");
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            long[] bases = [now - 30_000, now - 20_000, now - 10_000];
            long[] headerMaxes = [-1, 0, 4_102_444_800_000]; // year 2100
            for (var b = 0; b < 3; b++)
                Assert.Equal(b * 3, Produce("headers", 0, BatchWithHeaderMax(bases[b], headerMaxes[b], $"b{b}-"), node.Gateway, node.System).BaseOffset);

            AwaitRetentionChecks(node);

            Assert.Equal(0, Offset(node, "headers", OffsetSpec.Earliest));
            var records = ReadAll(node, "headers");
            Assert.Equal(9, records.Count);
            // ListOffsets by timestamp answers from the records' own timestamps.
            Assert.Equal(1, Offset(node, "headers", bases[0] + 1));
            Assert.Equal(3, Offset(node, "headers", bases[0] + 3));
            Assert.Equal(5, Offset(node, "headers", bases[1] + 2));
            Assert.Equal(6, Offset(node, "headers", bases[2]));
            Assert.Equal(-1, Offset(node, "headers", bases[2] + 3));
            // What is stored carries the max timestamp the node computed, with a CRC that matches it.
            var fetched = Ask<FetchResponse>(node, new FetchRequest("headers", 0, 0, 1 << 20, 0)).Records;
            var position = 0;
            for (var b = 0; b < 3; b++)
            {
                Assert.True(RecordBatch.TryReadNext(fetched, ref position, out var stored, out var header));
                Assert.Equal(bases[b] + 2, header.MaxTimestamp);
                Assert.Equal(BatchValidation.Valid, RecordBatch.Validate(stored.Span, out _));
            }
        }
        finally
        {
            Shutdown(node.System, TimeSpan.FromSeconds(20), verifySystemShutdown: true);
        }
    }

    [Fact]
    public void LogAppendTime_topics_stamp_the_nodes_clock_on_every_record()
    {
        var node = StartNodeOn(NewDataDir());
        try
        {
            CreateTopicOn(node, "appended", new() { ["message.timestamp.type"] = "LogAppendTime" });
            var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var result = Produce("appended", 0, Batch(4, timestamp: 1_000), node.Gateway, node.System); // 1970 by the producer's clock
            var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

            Assert.Equal(ErrorCode.None, result.Error);
            Assert.InRange(result.LogAppendTime, before, after);
            var records = ReadAll(node, "appended");
            Assert.Equal(4, records.Count);
            Assert.All(records, r => Assert.Equal(result.LogAppendTime, r.Timestamp));
            Assert.Equal(0, Offset(node, "appended", before));
        }
        finally
        {
            Shutdown(node.System, TimeSpan.FromSeconds(20), verifySystemShutdown: true);
        }
    }

    [Fact]
    public void Every_refused_batch_writes_nothing_and_the_partition_serves_the_next_good_batch()
    {
        var node = StartNodeOn(NewDataDir());
        try
        {
            CreateTopicOn(node, "strict");
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var cases = new (string What, byte[] Batch, ErrorCode Expected)[]
            {
                ("magic 1", Edit(Batch(2), b => b[16] = 1, fixCrc: false), ErrorCode.InvalidRecord),
                ("bad CRC", Edit(Batch(2), b => b[^1] ^= 0xFF, fixCrc: false), ErrorCode.CorruptRecord),
                ("count vs last offset delta", Edit(Batch(2), b => BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(23), 7)), ErrorCode.InvalidRecord),
                ("count vs records", Edit(Batch(2), b => { BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(57), 3); BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(23), 2); }), ErrorCode.InvalidRecord),
                ("offset delta", Edit(Batch(2), b => b[RecordBatch.HeaderSize + 3] = 2), ErrorCode.InvalidRecord),
                ("control batch", Edit(Batch(2), b => b[22] |= 0x20), ErrorCode.InvalidRecord),
                ("producer id without sequence", Edit(Batch(2), b => RecordBatch.SetProducer(b, 7, 0, -1), fixCrc: false), ErrorCode.InvalidRecord),
                ("two hours ahead", Batch(2, timestamp: now + 7_200_000), ErrorCode.InvalidTimestamp),
                ("zstd bomb", CompressionBombs.Batch(CompressionCodec.Zstd, 256 * 1024 * 1024), ErrorCode.RecordTooLarge),
            };
            var expectedEnd = 0L;
            foreach (var (what, batch, expected) in cases)
            {
                var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                var refused = Produce("strict", 0, batch, node.Gateway, node.System);
                var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
                Assert.True(expected == refused.Error, $"{what}: expected {expected}, got {refused.Error} ({refused.ErrorMessage})");
                Assert.False(string.IsNullOrEmpty(refused.ErrorMessage), what);
                // The bomb expands to 256 MiB; the node stops at its 4 MiB cap (the whole process, test included).
                if (what == "zstd bomb") Assert.True(allocated < 64L * 1024 * 1024, $"{what}: the node allocated {allocated} bytes");
                Assert.Equal(expectedEnd, Offset(node, "strict", OffsetSpec.Latest));
                Assert.Equal(expectedEnd, Produce("strict", 0, Batch(1, what), node.Gateway, node.System).BaseOffset);
                expectedEnd++;
            }
            var records = ReadAll(node, "strict");
            Assert.Equal(cases.Select(c => c.What + "0"), records.Select(r => Text(r.Value)));
        }
        finally
        {
            Shutdown(node.System, TimeSpan.FromSeconds(20), verifySystemShutdown: true);
        }
    }

    private static byte[] Edit(byte[] batch, Action<byte[]> edit, bool fixCrc = true)
    {
        edit(batch);
        if (fixCrc) BinaryPrimitives.WriteUInt32BigEndian(batch.AsSpan(17), Crc32C.Compute(batch.AsSpan(21)));
        return batch;
    }

    [Fact]
    public void A_journal_written_before_validation_with_max_timestamp_minus_one_keeps_its_records_after_the_upgrade()
    {
        var dir = NewDataDir();
        var first = StartNodeOn(dir);
        CreateTopicOn(first, "legacy");      // its batches come back by replaying the journal
        CreateTopicOn(first, "legacysnap");  // and from a snapshot that indexed the header's -1
        Shutdown(first.System, TimeSpan.FromSeconds(20), verifySystemShutdown: true);

        // What the previous version stored for a client that left MaxTimestamp at -1: the header as sent.
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long[] bases = [now - 30_000, now - 20_000, now - 10_000];
        var writer = ActorSystem.Create("broker", NodeConfigFor(dir, Hocon));
        try
        {
            foreach (var (topic, snapshot) in new[] { ("legacy", false), ("legacysnap", true) })
            {
                var probe = CreateTestProbe(writer);
                writer.ActorOf(Props.Create(() => new LegacyJournalWriter($"partition/{topic}/0", bases, snapshot, probe.Ref)));
                probe.ExpectMsg<string>(TimeSpan.FromSeconds(15));
            }
        }
        finally
        {
            Shutdown(writer, TimeSpan.FromSeconds(20), verifySystemShutdown: true);
        }

        var upgraded = StartNodeOn(dir);
        try
        {
            foreach (var topic in new[] { "legacy", "legacysnap" })
            {
                // The snapshot's entries are read back in the background: ListOffsets is right once they are.
                AwaitAssert(() => Assert.Equal(4, Offset(upgraded, topic, bases[1] + 1)), TimeSpan.FromSeconds(15));
            }
            AwaitRetentionChecks(upgraded);
            foreach (var topic in new[] { "legacy", "legacysnap" })
            {
                Assert.Equal(0, Offset(upgraded, topic, OffsetSpec.Earliest));
                Assert.Equal(9, ReadAll(upgraded, topic).Count);
                Assert.Equal(1, Offset(upgraded, topic, bases[0] + 1));
                Assert.Equal(8, Offset(upgraded, topic, bases[2] + 2));
            }
        }
        finally
        {
            Shutdown(upgraded.System, TimeSpan.FromSeconds(20), verifySystemShutdown: true);
        }
    }

    /// <summary>
    /// Appends to a partition's journal what the version before batch validation persisted for three batches whose
    /// header MaxTimestamp is -1 (and, if asked, the snapshot it took of them); replies "done".
    /// </summary>
    private sealed class LegacyJournalWriter : ReceivePersistentActor
    {
        private string? _topicId;

        public LegacyJournalWriter(string persistenceId, long[] bases, bool snapshot, IActorRef done)
        {
            PersistenceId = persistenceId;
            Recover<PartitionCreated>(e => _topicId = e.TopicId);
            Recover<RecoveryCompleted>(_ =>
            {
                var events = new List<BatchAppended>();
                for (var b = 0; b < bases.Length; b++)
                {
                    var batch = BatchWithHeaderMax(bases[b], -1, $"old{b}-");
                    RecordBatch.SetBaseOffset(batch, b * 3);
                    events.Add(new BatchAppended(batch));
                }
                var seqs = new List<long>();
                PersistAll(events, _ =>
                {
                    seqs.Add(LastSequenceNr);
                    if (seqs.Count < events.Count) return;
                    if (!snapshot)
                    {
                        done.Tell("done");
                        return;
                    }
                    SaveSnapshot(new PartitionSnapshot(_topicId!, 0, 9, [0, 3, 6], [3, 3, 3], [.. seqs], [-1, -1, -1],
                        [.. events.Select(e => e.Batch.Length)]) { HighWatermark = 9 });
                });
            });
            Command<SaveSnapshotSuccess>(_ => done.Tell("done"));
            Command<SaveSnapshotFailure>(f => done.Tell(f.Cause.ToString()));
        }

        public override string PersistenceId { get; }
    }
}
