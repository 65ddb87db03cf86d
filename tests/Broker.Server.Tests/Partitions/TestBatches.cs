using Broker.Protocol.Records;
using Broker.Server.Partitions;
using Microsoft.Extensions.Time.Testing;

namespace Broker.Server.Tests.Partitions;

/// <summary>Record batches and logs for the replica's plain-class tests.</summary>
internal static class TestBatches
{
    public static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    /// <summary>A batch of <paramref name="records"/> records at <paramref name="baseOffset"/>, written in leader epoch <paramref name="epoch"/>.</summary>
    public static byte[] Batch(long baseOffset, int records, int epoch, long timestamp = 1_700_000_000_000)
    {
        var builder = new RecordBatchBuilder();
        for (var i = 0; i < records; i++) builder.Append(timestamp, [(byte)i], [1, 2, 3]);
        var batch = builder.Build(baseOffset);
        RecordBatch.SetPartitionLeaderEpoch(batch, epoch);
        return batch;
    }

    /// <summary>A log holding batches of <paramref name="records"/> records each, one per entry of <paramref name="epochs"/> (the epoch it was written in).</summary>
    public static PartitionLog Log(FakeTimeProvider clock, int records, params int[] epochs)
    {
        var log = new PartitionLog(1 << 20, clock);
        log.StartIncarnation("topic-id");
        var sequenceNr = 1L;
        foreach (var epoch in epochs)
        {
            if (epoch != log.Epochs.LatestEpoch) log.Epochs.Assign(epoch, log.LogEnd);
            log.Appended(Batch(log.LogEnd, records, epoch), sequenceNr++);
        }
        log.SettleNextOffset();
        return log;
    }
}
