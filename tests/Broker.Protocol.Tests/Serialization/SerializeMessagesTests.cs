// With serialize-messages on, every local Tell goes through the bound serializer: a message that the
// actor receives equal to what was sent proves the binding works end to end inside Akka.
using Akka.Actor;
using Akka.Configuration;
using Broker.Protocol.Messages;
using Broker.Protocol.Serialization;
using Xunit;

namespace Broker.Protocol.Tests.Serialization;

public sealed class SerializeMessagesTests() : Akka.TestKit.Xunit2.TestKit(Config)
{
    private static readonly Config Config =
        ConfigurationFactory.ParseString("akka.actor.serialize-messages = on").WithFallback(ProtocolConfig.Default);

    public static TheoryData<string> MessageNames => MessageSamples.Names();

    [Theory]
    [MemberData(nameof(MessageNames))]
    public void Message_told_to_an_actor_arrives_equal_after_serialization(string name)
    {
        var message = MessageSamples.ByName[name];

        TestActor.Tell(message);
        var received = ExpectMsg<IBrokerMessage>();

        Assert.NotSame(message, received); // it went through the serializer, not by reference
        if (message is not MalformedRequest) Assert.IsNotType<MalformedRequest>(received);
        StructuralAssert.Equal(message, received);
    }

    [Fact]
    public void One_megabyte_batch_told_to_an_actor_arrives_intact()
    {
        var batch = MessageSamples.Bytes(1 << 20);
        var message = new FetchResponse("orders", 0, ErrorCode.None, null, 1, 0, batch);

        TestActor.Tell(message);
        var received = ExpectMsg<FetchResponse>();

        Assert.NotSame(message, received);
        Assert.True(received.Records.Span.SequenceEqual(batch));
    }
}
