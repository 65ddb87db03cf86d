using Akka.Actor;
using Broker.Protocol.Serialization;
using Broker.Server.Metadata;
using Broker.Server.Partitions;
using Broker.Server.Serialization;
using Xunit;

namespace Broker.Server.Tests.Partitions;

/// <summary>Partition snapshots and the producer-id blocks are persisted: the new layouts round-trip and older snapshots still read.</summary>
public sealed class PartitionSnapshotSerializationTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serialization");
    private readonly ServerSerializer _serializer;

    public PartitionSnapshotSerializationTests() => _serializer = new ServerSerializer((ExtendedActorSystem)_system);

    public void Dispose() => _system.Dispose();

    [Fact]
    public void A_snapshot_with_idempotent_producers_round_trips()
    {
        var snapshot = new PartitionSnapshot("id1", 0, 12, [0, 5], [5, 7], [1, 2], [100, 200], [300, 400])
        {
            HighWatermark = 12,
            Epochs = [0, 3],
            EpochStartOffsets = [0, 5],
            Producers = [new ProducerState(42L << 32 | 7, 2, 200, [new ProducerBatch(0, 4, 0, 4), new ProducerBatch(5, 11, 5, 11)])],
        };

        var manifest = _serializer.Manifest(snapshot);
        var read = Assert.IsType<PartitionSnapshot>(_serializer.FromBinary(_serializer.ToBinary(snapshot), manifest));

        Assert.Equal("PS@3", manifest);
        Assert.Equal(snapshot.BaseOffsets, read.BaseOffsets);
        Assert.Equal(snapshot.EpochStartOffsets, read.EpochStartOffsets);
        var producer = Assert.Single(read.Producers);
        Assert.Equal(42L << 32 | 7, producer.ProducerId);
        Assert.Equal(2, producer.Epoch);
        Assert.Equal(200, producer.LastTimestamp);
        Assert.Equal(snapshot.Producers[0].Batches, producer.Batches);
    }

    [Fact]
    public void A_snapshot_written_before_idempotence_still_reads_with_no_producers()
    {
        // PS@2 layout: topic id, log start, log end, the index, high watermark, epochs; nothing after.
        using var w = new WireWriter();
        w.WriteString("id0");
        w.WriteInt64(0);
        w.WriteInt64(3);
        w.WriteCount(1);
        w.WriteInt64(0);
        w.WriteInt32(3);
        w.WriteInt64(1);
        w.WriteInt64(100);
        w.WriteInt32(90);
        w.WriteInt64(3);
        w.WriteCount(1);
        w.WriteInt32(0);
        w.WriteInt64(0);

        var read = Assert.IsType<PartitionSnapshot>(_serializer.FromBinary(w.ToArray(), "PS@2"));

        Assert.Equal(3, read.LogEndOffset);
        Assert.Equal([0], read.Epochs);
        Assert.Empty(read.Producers);
    }

    [Fact]
    public void Producer_id_blocks_round_trip()
    {
        var blocks = ProducerIdBlocks.Empty.Put(ProducerIdBlocks.KeyOf(3), new ProducerIdBlock(2000));
        var manifest = _serializer.Manifest(blocks);
        var read = Assert.IsType<ProducerIdBlocks>(_serializer.FromBinary(_serializer.ToBinary(blocks), manifest));
        Assert.Equal(2000, read.Get("node-3")!.Next);
        // Merging never takes a node's block back.
        Assert.Equal(2000, read.Merge(ProducerIdBlocks.Empty.Put("node-3", new ProducerIdBlock(1000))).Get("node-3")!.Next);
    }
}
