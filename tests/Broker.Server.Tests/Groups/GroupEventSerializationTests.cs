using Akka.Actor;
using Broker.Protocol;
using Broker.Server.Groups;
using Broker.Server.Serialization;
using Xunit;

namespace Broker.Server.Tests.Groups;

/// <summary>The group journal events added for DeleteGroups and OffsetDelete (issue 15) survive the journal's serializer.</summary>
public sealed class GroupEventSerializationTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("serialization");
    private readonly ServerSerializer _serializer;

    public GroupEventSerializationTests() => _serializer = new ServerSerializer((ExtendedActorSystem)_system);

    public void Dispose() => _system.Dispose();

    [Fact]
    public void GroupDeleted_and_OffsetsDeleted_round_trip()
    {
        Assert.Equal("GD", _serializer.Manifest(GroupDeleted.Instance));
        Assert.IsType<GroupDeleted>(_serializer.FromBinary(_serializer.ToBinary(GroupDeleted.Instance), "GD"));

        var deleted = new OffsetsDeleted([new TopicPartition("orders", 0), new TopicPartition("payments", 7)]);
        var manifest = _serializer.Manifest(deleted);
        Assert.Equal("GOD", manifest);
        var read = Assert.IsType<OffsetsDeleted>(_serializer.FromBinary(_serializer.ToBinary(deleted), manifest));
        Assert.Equal(deleted.Partitions, read.Partitions);
    }
}
