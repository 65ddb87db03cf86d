using Akka.Actor;
using Broker.Protocol.Serialization;
using Xunit;

namespace Broker.Protocol.Tests.Serialization;

/// <summary>Every system built on ProtocolConfig (nodes and clients) has Akka's type-instantiating serializers replaced by refusals.</summary>
public sealed class DisabledSerializersTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("hardened", ProtocolConfig.Default);

    public void Dispose() => _system.Dispose();

    private Akka.Serialization.Serialization Serialization => _system.Serialization;

    [Fact]
    public void The_JSON_serializer_id_refuses_any_bytes()
    {
        var json = """{"$type":"System.IO.FileInfo, System.Private.CoreLib","fileName":"/tmp/x"}"""u8.ToArray();
        var ex = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => Serialization.Deserialize(json, 1, ""));
        Assert.Contains("JSON serializer", ex.Message);
    }

    [Fact]
    public void The_remote_deployment_serializer_id_refuses_any_bytes() =>
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => Serialization.Deserialize([1, 2, 3], 3, ""));

    [Fact]
    public void A_type_without_a_binding_is_not_sent_as_JSON()
    {
        var serializer = Serialization.FindSerializerFor(new Unbound(1));
        Assert.IsType<DisabledJsonSerializer>(serializer);
        var ex = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.ToBinary(new Unbound(1)));
        Assert.Contains(nameof(Unbound), ex.Message);
    }

    private sealed record Unbound(int Value);
}
