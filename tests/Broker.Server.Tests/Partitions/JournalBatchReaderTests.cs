using Akka.Persistence;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Partitions;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Partitions;

/// <summary>Cold reads straight from the SQLite journal's table return exactly what a replay through Akka.Persistence returns.</summary>
public sealed class JournalBatchReaderTests(ITestOutputHelper output) : NodeTestKit(output, "broker.partition.tail-cache-bytes = 2000")
{
    [Fact]
    public void Reads_the_same_batches_as_a_replay_and_is_used_on_a_nodes_journal()
    {
        var reader = JournalBatchReader.For(Sys.Settings.Config);
        Assert.NotNull(reader);
        CreateTopic("direct", 1);
        var sent = new List<byte[]>();
        for (var b = 0; b < 8; b++)
        {
            var batch = Batch(3, valueSize: 200);
            Produce("direct", 0, batch);
            sent.Add(batch);
        }

        var direct = reader.Read("partition/direct/0", 1, long.MaxValue, 7);
        Assert.Null(direct.Failure);
        Assert.Equal(7, direct.RequestId);
        var journal = Persistence.Instance.Apply(Sys).JournalFor(null);
        var probe = CreateTestProbe();
        journal.Tell(new ReplayMessages(1, long.MaxValue, long.MaxValue, "partition/direct/0", probe.Ref), probe.Ref);
        var replayed = new List<(long, byte[])>();
        while (true)
        {
            var m = probe.ExpectMsg<object>(TimeSpan.FromSeconds(10));
            if (m is RecoverySuccess) break;
            if (m is ReplayedMessage { Persistent.Payload: BatchAppended appended } r) replayed.Add((r.Persistent.SequenceNr, appended.Batch));
        }
        Assert.Equal(8, direct.Batches.Count);
        Assert.Equal(replayed.Select(r => r.Item1), direct.Batches.Select(b => b.SequenceNr));
        for (var i = 0; i < replayed.Count; i++) Assert.Equal(replayed[i].Item2, direct.Batches[i].Batch);
        // A fetch from offset 0 (long out of the 2000-byte tail cache) reads through it: all 24 records, in order.
        var fetched = Request<FetchResponse>(Gateway, new FetchRequest("direct", 0, 0, 1_000_000, 0));
        Assert.Equal(ErrorCode.None, fetched.Error);
        Assert.Equal(Enumerable.Range(0, 24).Select(i => (long)i), Records(fetched.Records).Select(r => r.Offset));
        // A range with no batches is an empty read, not a failure.
        Assert.Empty(reader.Read("partition/direct/0", 1000, 2000, 8).Batches);
    }
}
