using Akka.Actor;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Server.Membership;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Partitions;

/// <summary>
/// Idempotent producers on a real node (KIP-98): producer ids from InitProducerId, a retried batch stored once
/// and answered with its first offset, gaps and stale epochs refused, and all of it after a restart too.
/// </summary>
public sealed class IdempotentProduceTests(ITestOutputHelper output) : NodeTestKit(output)
{
    private const string SnapshotOften = "broker.partition.snapshot-every-batches = 2";

    private static byte[] IdempotentBatch(long producerId, short epoch, int firstSeq, int records, string prefix = "v")
    {
        var batch = Batch(records, prefix);
        RecordBatch.SetProducer(batch, producerId, epoch, firstSeq);
        return batch;
    }

    private long EndOffset(string topic, IActorRef? gateway = null, ActorSystem? system = null) =>
        Request<ListOffsetsResponse>(gateway ?? Gateway, new ListOffsetsRequest(topic, 0, OffsetSpec.Latest), system: system).Offset;

    [Fact]
    public void Each_InitProducerId_gets_a_new_id_carrying_the_node_id()
    {
        var first = Request<InitProducerIdResponse>(new InitProducerIdRequest());
        var second = Request<InitProducerIdResponse>(new InitProducerIdRequest());
        Assert.Equal(ErrorCode.None, first.Error);
        Assert.NotEqual(first.ProducerId, second.ProducerId);
        Assert.Equal(0, first.ProducerEpoch);
        Assert.Equal(NodeIdentity.Self(Sys), (int)(first.ProducerId >> 32));
    }

    [Fact]
    public void A_retried_batch_is_stored_once_and_answered_with_its_first_offset()
    {
        CreateTopic("idem", 1);
        var pid = Request<InitProducerIdResponse>(new InitProducerIdRequest()).ProducerId;

        Assert.Equal(0, Produce("idem", 0, IdempotentBatch(pid, 0, 0, 3, "a")).BaseOffset);
        Assert.Equal(3, Produce("idem", 0, IdempotentBatch(pid, 0, 3, 2, "b")).BaseOffset);
        var retry = Produce("idem", 0, IdempotentBatch(pid, 0, 0, 3, "a"));
        Assert.Equal(ErrorCode.None, retry.Error);
        Assert.Equal(0, retry.BaseOffset);
        Assert.Equal(5, EndOffset("idem"));

        var fetched = Request<FetchResponse>(new FetchRequest("idem", 0, 0, 1 << 20, 0));
        Assert.Equal(["a0", "a1", "a2", "b0", "b1"], Records(fetched.Records).Select(r => Text(r.Value)));
    }

    [Fact]
    public void A_gap_in_the_sequence_is_refused_and_nothing_is_written()
    {
        CreateTopic("gap", 1);
        const long pid = 77;
        Assert.Equal(ErrorCode.None, Produce("gap", 0, IdempotentBatch(pid, 0, 0, 2)).Error);
        var gap = Produce("gap", 0, IdempotentBatch(pid, 0, 5, 1));
        Assert.Equal(ErrorCode.OutOfOrderSequence, gap.Error);
        Assert.Contains("does not follow", gap.ErrorMessage);
        Assert.Equal(2, EndOffset("gap"));
        Assert.Equal(2, Produce("gap", 0, IdempotentBatch(pid, 0, 2, 1)).BaseOffset); // the producer goes on where it was
    }

    [Fact]
    public void An_older_producer_epoch_is_fenced_once_a_newer_one_wrote()
    {
        CreateTopic("epoch", 1);
        const long pid = 78;
        Assert.Equal(ErrorCode.None, Produce("epoch", 0, IdempotentBatch(pid, 0, 0, 1)).Error);
        Assert.Equal(ErrorCode.None, Produce("epoch", 0, IdempotentBatch(pid, 1, 0, 1)).Error);
        var zombie = Produce("epoch", 0, IdempotentBatch(pid, 0, 1, 1));
        Assert.Equal(ErrorCode.InvalidProducerEpoch, zombie.Error);
        Assert.Equal(2, EndOffset("epoch"));
    }

    [Fact]
    public void A_batch_with_a_producer_id_but_no_sequence_is_refused()
    {
        CreateTopic("noseq", 1);
        var refused = Produce("noseq", 0, IdempotentBatch(79, 0, -1, 1));
        Assert.Equal(ErrorCode.InvalidRecord, refused.Error); // Kafka's LogValidator: INVALID_RECORD
        Assert.Contains("base sequence -1", refused.ErrorMessage);
        Assert.Equal(0, EndOffset("noseq"));
    }

    [Theory]
    [InlineData(SnapshotOften)]   // the producers come back from the snapshot
    [InlineData("")]              // the producers come back from replaying the journal
    public void After_a_restart_a_retry_is_still_recognised_and_producer_ids_are_not_reused(string hocon)
    {
        var dir = NewDataDir();
        var node = StartNodeOn(dir, hocon);
        long pid;
        try
        {
            Assert.Equal(ErrorCode.None, Request<CreateTopicsResponse>(node.Gateway, new CreateTopicsRequest([new TopicSpec("kept", 1, 1, new Dictionary<string, string>())]), system: node.System).Results[0].Error);
            pid = Request<InitProducerIdResponse>(node.Gateway, new InitProducerIdRequest(), system: node.System).ProducerId;
            for (var b = 0; b < 5; b++)
                Assert.Equal(b * 2, Produce("kept", 0, IdempotentBatch(pid, 0, b * 2, 2, $"b{b}-"), node.Gateway, node.System).BaseOffset);
        }
        finally
        {
            Shutdown(node.System, TimeSpan.FromSeconds(20), verifySystemShutdown: true);
        }

        var restarted = StartNodeOn(dir, hocon);
        try
        {
            // Batch 3 lies before the last snapshot: only a snapshot that kept the producers knows it.
            var retry = Produce("kept", 0, IdempotentBatch(pid, 0, 6, 2, "b3-"), restarted.Gateway, restarted.System);
            Assert.Equal(ErrorCode.None, retry.Error);
            Assert.Equal(6, retry.BaseOffset);
            Assert.Equal(10, EndOffset("kept", restarted.Gateway, restarted.System));
            Assert.Equal(ErrorCode.OutOfOrderSequence, Produce("kept", 0, IdempotentBatch(pid, 0, 11, 1), restarted.Gateway, restarted.System).Error);
            Assert.Equal(10, Produce("kept", 0, IdempotentBatch(pid, 0, 10, 1), restarted.Gateway, restarted.System).BaseOffset);

            var next = Request<InitProducerIdResponse>(restarted.Gateway, new InitProducerIdRequest(), system: restarted.System);
            Assert.True(next.ProducerId > pid, $"producer id {next.ProducerId} after the restart is not past {pid}");
        }
        finally
        {
            Shutdown(restarted.System, TimeSpan.FromSeconds(20), verifySystemShutdown: true);
        }
    }

    private static (ActorSystem System, IActorRef Gateway) StartNodeOn(string dataDir, string hocon)
    {
        var system = ActorSystem.Create("broker", NodeConfigFor(dataDir, hocon));
        return (system, StartNode(system));
    }
}
