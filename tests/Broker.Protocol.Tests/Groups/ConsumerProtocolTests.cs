using Broker.Protocol.Groups;
using Broker.Protocol.Serialization;
using Xunit;

namespace Broker.Protocol.Tests.Groups;

public class ConsumerProtocolTests
{
    [Fact]
    public void Subscription_round_trips_topics_and_owned_partitions()
    {
        var subscription = new ConsumerSubscription(["orders", "bestellungen-ü"], [new TopicPartition("orders", 3), new TopicPartition("orders", 0)]);
        var decoded = ConsumerProtocol.DecodeSubscription(ConsumerProtocol.EncodeSubscription(subscription));
        Assert.Equal(subscription.Topics, decoded.Topics);
        Assert.Equal(subscription.Owned, decoded.Owned);
    }

    [Fact]
    public void Assignment_round_trips_and_empty_bytes_are_an_empty_assignment()
    {
        TopicPartition[] partitions = [new("orders", 1), new("payments", 0)];
        Assert.Equal(partitions, ConsumerProtocol.DecodeAssignment(ConsumerProtocol.EncodeAssignment(partitions)));
        Assert.Empty(ConsumerProtocol.DecodeAssignment(ReadOnlyMemory<byte>.Empty));
    }

    [Fact]
    public void Garbage_and_unknown_versions_are_rejected_with_WireFormatException()
    {
        Assert.Throws<WireFormatException>(() => ConsumerProtocol.DecodeSubscription(new byte[] { 0, 0, 0x7f, 0xff, 0xff, 0xff }));
        Assert.Throws<WireFormatException>(() => ConsumerProtocol.DecodeAssignment(new byte[] { 0, 9, 0, 0, 0, 0 }));
        Assert.Throws<WireFormatException>(() => ConsumerProtocol.DecodeAssignment(new byte[] { 0 }));
    }
}
