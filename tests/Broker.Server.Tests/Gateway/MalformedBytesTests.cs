using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Serialization;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Gateway;

/// <summary>
/// Garbage bytes sent over real Akka.Remote under the protocol's serializer id and a request manifest:
/// the gateway answers InvalidRequest, the association survives, and the node keeps serving.
/// </summary>
public sealed class MalformedBytesTests(ITestOutputHelper output) : NodeTestKit(output)
{
    /// <summary>A message whose bytes and manifest the test chooses, sent under BrokerSerializer's identifier.</summary>
    public sealed record RawFrame(string Manifest, byte[] Bytes);

    public sealed class RawFrameSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
    {
        public override int Identifier => BrokerSerializer.Id;
        public override string Manifest(object o) => ((RawFrame)o).Manifest;
        public override byte[] ToBinary(object obj) => ((RawFrame)obj).Bytes;
        public override object FromBinary(byte[] bytes, string manifest) => new RawFrame(manifest, bytes);
    }

    [Fact]
    public async Task Garbage_bytes_at_the_gateway_get_InvalidRequest_and_the_node_keeps_serving()
    {
        CreateTopic("sturdy", 1);
        var clientConfig = ConfigurationFactory.ParseString($$"""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            akka.actor.serializers.raw = "{{typeof(RawFrameSerializer).AssemblyQualifiedName}}"
            akka.actor.serialization-bindings { "{{typeof(RawFrame).AssemblyQualifiedName}}" = raw }
            """).WithFallback(ProtocolConfig.Default);
        var client = ActorSystem.Create("garbage-client", clientConfig);
        try
        {
            var address = Akka.Cluster.Cluster.Get(Sys).SelfAddress;
            var gateway = await client.ActorSelection($"{address}/user/gateway").ResolveOne(TimeSpan.FromSeconds(10));

            // Replies come back under the same serializer id, so this client reads them as RawFrames: decode them properly.
            var protocol = new BrokerSerializer((ExtendedActorSystem)client);
            async Task<object> Send(RawFrame frame)
            {
                var reply = Assert.IsType<RawFrame>(await gateway.Ask<object>(frame, TimeSpan.FromSeconds(10)));
                return protocol.FromBinary(reply.Bytes, reply.Manifest);
            }

            var error = Assert.IsType<ErrorResponse>(await Send(new RawFrame("P", [0xFF, 0x01, 0x02])));
            Assert.Equal(ErrorCode.InvalidRequest, error.Error);
            Assert.Contains("could not read request", error.ErrorMessage);

            Assert.Equal(ErrorCode.InvalidRequest, Assert.IsType<ErrorResponse>(await Send(new RawFrame("NOPE", [1, 2, 3]))).Error);

            // Same association, a valid request right after: answered.
            var valid = new ProduceRequest(1, 10_000, [new ProducePartitionData("sturdy", 0, Batch(2))]);
            var produced = Assert.IsType<ProduceResponse>(await Send(new RawFrame("P", protocol.ToBinary(valid))));
            Assert.Equal(ErrorCode.None, produced.Results[0].Error);
        }
        finally
        {
            await client.Terminate();
        }
    }
}
