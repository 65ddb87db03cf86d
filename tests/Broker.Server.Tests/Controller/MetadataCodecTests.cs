using System.Collections.Immutable;
using Broker.Protocol.Serialization;
using Broker.Server.Controller;
using Xunit;

namespace Broker.Server.Tests.Controller;

/// <summary>Every metadata record, result and the image snapshot survive the log's bytes unchanged.</summary>
public sealed class MetadataCodecTests
{
    private static readonly ImmutableSortedDictionary<string, string> Configs =
        ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("min.insync.replicas", "2");

    public static TheoryData<object> Values() =>
    [
        new RegisterBroker(3, Guid.NewGuid(), 17),
        new FenceBroker(2, 5),
        new UnfenceBroker(2, 6),
        new CreateTopic("orders", "tid", 3, Configs, [[1, 2, 3], [2, 3, 1]]),
        new DeleteTopic("tid"),
        new AlterPartition("tid", 4, 1, 9, 3, 7, [1, 3]),
        new ElectLeader("tid", 0, ElectionType.Unclean),
        new Reassign("tid", 1, [4, 5, 6]),
        new AllocateProducerIds(1, 2, 1000),
        new Refused(MetadataError.InvalidUpdateVersion, "stale"),
        new BrokerRegistered(1, 12),
        new BrokerFenceChanged(1, true),
        new TopicCreated("orders", "tid"),
        new TopicDeleted("orders", "tid"),
        new PartitionChanged("tid", 2, new PartitionImage(3, 4, 5, [3, 1])),
        new ProducerIdsAllocated(5000, 1000),
        new PutEntries("partitions", [new EntryChange("t/0", null, [1, 2]), new EntryChange("t/1", [3], null), new EntryChange("t/2", [4], [5, 6])]),
        new EntriesPut("partitions", 3, 42),
    ];

    [Theory]
    [MemberData(nameof(Values))]
    public void A_value_reads_back_as_the_same_type_and_the_same_bytes(object value)
    {
        var bytes = MetadataCodec.Encode(value);
        var back = MetadataCodec.Decode(bytes);
        Assert.IsType(value.GetType(), back);
        Assert.Equal(bytes, MetadataCodec.Encode(back));
        Assert.Equal(value.ToString(), back.ToString()); // records print their fields (arrays by type, the rest by value)
    }

    [Fact]
    public void Fields_survive_a_round_trip()
    {
        var a = (AlterPartition)MetadataCodec.DecodeRecord(MetadataCodec.Encode(new AlterPartition("tid", 4, 1, 9, 3, 7, [1, 3])));
        Assert.Equal(("tid", 4, 1, 9L, 3, 7), (a.TopicId, a.Partition, a.LeaderId, a.BrokerEpoch, a.LeaderEpoch, a.PartitionEpoch));
        Assert.Equal<int>([1, 3], a.NewIsr);
        var c = (CreateTopic)MetadataCodec.DecodeRecord(MetadataCodec.Encode(new CreateTopic("orders", "tid", 3, Configs, [[1, 2, 3], [2, 3, 1]])));
        Assert.Equal<int>([2, 3, 1], c.Assignments[1]);
        Assert.Equal("2", c.Configs["min.insync.replicas"]);
    }

    [Fact]
    public void A_snapshot_restores_an_image_that_applies_the_rest_of_the_log_exactly_as_the_original()
    {
        var original = new MetadataStateMachine();
        var log = new List<MetadataRecord>
        {
            new RegisterBroker(1, Guid.NewGuid(), -1), new RegisterBroker(2, Guid.NewGuid(), -1), new RegisterBroker(3, Guid.NewGuid(), -1),
            new UnfenceBroker(1, 1), new UnfenceBroker(2, 2), new UnfenceBroker(3, 3),
            new CreateTopic("orders", "tid", 3, Configs, [[1, 2, 3], [2, 3, 1]]),
            new Reassign("tid", 1, [1, 2, 3]),
            new AllocateProducerIds(1, 1, 1000),
            new PutEntries("topics", [new EntryChange("orders", null, [1, 2, 3])]),
        };
        long index = 0;
        foreach (var r in log) Assert.True(original.Apply(r, ++index).Accepted, r.ToString());
        var restored = new MetadataStateMachine((MetadataImage)MetadataCodec.Decode(MetadataCodec.Encode(original.Image)));
        Assert.Equal(MetadataCodec.Encode(original.Image), MetadataCodec.Encode(restored.Image));

        var rest = new MetadataRecord[]
        {
            new FenceBroker(1, 1), new AlterPartition("tid", 0, 2, 2, 1, 2, [2]), new AllocateProducerIds(2, 2, 10),
            new PutEntries("topics", [new EntryChange("orders", [1, 2, 3], [4])]),
        };
        foreach (var r in rest)
        {
            index++;
            Assert.Equal(MetadataCodec.Encode(original.Apply(r, index)), MetadataCodec.Encode(restored.Apply(r, index)));
        }
        Assert.Equal(MetadataCodec.Encode(original.Image), MetadataCodec.Encode(restored.Image));
        Assert.Equal(2, restored.Image.Partition("tid", 0)!.Leader);
        Assert.Equal(1010, restored.Image.NextProducerId);
        Assert.Equal([4], restored.Image.Map("topics")["orders"]);
    }

    [Fact]
    public void A_snapshot_of_the_first_layout_still_reads_with_no_maps()
    {
        var image = new MetadataStateMachine().Image;
        var v2 = MetadataCodec.Encode(image);
        // MIS@1 is MIS@2 without the maps section (an empty map list is its last four bytes).
        var r = new WireReader(v2);
        r.ReadString();
        var body = r.ReadBytesAsMemory().ToArray();
        using var w = new WireWriter();
        w.WriteString("MIS@1");
        w.WriteBytes(body.AsSpan(0, body.Length - 4));
        var old = (MetadataImage)MetadataCodec.Decode(w.ToArray());
        Assert.Empty(old.Maps);
    }

    [Fact]
    public void An_unknown_manifest_or_trailing_bytes_are_refused()
    {
        using var w = new WireWriter();
        w.WriteString("MZZ@9");
        w.WriteBytes([1, 2, 3]);
        Assert.Throws<WireFormatException>(() => MetadataCodec.Decode(w.ToArray()));
        var good = MetadataCodec.Encode(new DeleteTopic("x"));
        Assert.Throws<WireFormatException>(() => MetadataCodec.Decode(good.Append((byte)0).ToArray()));
    }
}
