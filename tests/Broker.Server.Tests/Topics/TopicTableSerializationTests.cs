using Akka.Actor;
using Broker.Server.Metadata;
using Broker.Server.Serialization;
using Broker.Server.Topics;
using Xunit;

namespace Broker.Server.Tests.Topics;

/// <summary>The topic table is persisted by every node's metadata store: new layouts must read, and so must what older versions wrote.</summary>
public sealed class TopicTableSerializationTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serialization");
    private readonly ServerSerializer _serializer;

    public TopicTableSerializationTests() => _serializer = new ServerSerializer((ExtendedActorSystem)_system);

    public void Dispose() => _system.Dispose();

    [Fact]
    public void A_topic_with_a_move_in_progress_round_trips()
    {
        var topic = Reassignments.Begin(new TopicDescriptor("t", "id1", 2, 2, new Dictionary<string, string> { ["retention.ms"] = "1000" }, [[1, 2], [2, 3]]), 1, [2, 4]);
        var table = TopicTable.Empty.Put("t", new TopicEntry(topic, 5, false));

        var manifest = _serializer.Manifest(table);
        var read = Assert.IsType<TopicTable>(_serializer.FromBinary(_serializer.ToBinary(table), manifest));

        var back = read.Find("t")!;
        Assert.Equal("TT@2", manifest);
        Assert.Equal<int>([2, 4, 3], back.ReplicasOf(1));
        Assert.Equal<int>([2, 4], back.TargetOf(1));
        Assert.Equal<int>([4], back.Reassigning[1].Adding);
        Assert.False(back.IsReassigning(0));
        Assert.Equal(5, read.Get("t")!.Version);
    }

    [Fact]
    public void A_table_written_before_reassignments_existed_still_reads()
    {
        // TT@1 layout: entry count, then per entry name, version, deleted, and the topic without the move list.
        using var w = new Broker.Protocol.Serialization.WireWriter();
        w.WriteCount(1);
        w.WriteString("old");
        w.WriteInt64(3);
        w.WriteBool(false);
        w.WriteString("old");
        w.WriteString("id0");
        w.WriteInt32(1);
        w.WriteInt16(2);
        w.WriteStringMap(new Dictionary<string, string>());
        w.WriteCount(1);
        w.WriteInt32List([1, 2]);

        var read = Assert.IsType<TopicTable>(_serializer.FromBinary(w.ToArray(), "TT@1"));

        var topic = read.Find("old")!;
        Assert.Equal<int>([1, 2], topic.ReplicasOf(0));
        Assert.Empty(topic.Reassigning);
    }
}
