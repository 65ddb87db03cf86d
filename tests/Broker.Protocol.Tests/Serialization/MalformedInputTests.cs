// Bytes that are not a message (truncated, garbage, forged lengths, unknown manifests) come out of
// BrokerSerializer as MalformedRequest, never as an exception and never as a huge allocation.
using Akka.Actor;
using Broker.Protocol.Messages;
using Broker.Protocol.Serialization;
using Xunit;

namespace Broker.Protocol.Tests.Serialization;

public sealed class MalformedInputTests() : Akka.TestKit.Xunit2.TestKit(ProtocolConfig.Default)
{
    private BrokerSerializer Serializer => new((ExtendedActorSystem)Sys);

    public static TheoryData<string> MessageNames => MessageSamples.Names();

    [Theory]
    [MemberData(nameof(MessageNames))]
    public void Every_truncation_of_a_message_yields_MalformedRequest(string name)
    {
        var message = MessageSamples.ByName[name];
        var serializer = Serializer;
        var manifest = serializer.Manifest(message);
        var bytes = serializer.ToBinary(message);

        for (var length = 0; length < bytes.Length; length++)
        {
            var result = serializer.FromBinary(bytes.AsSpan(0, length).ToArray(), manifest);
            var malformed = Assert.IsType<MalformedRequest>(result);
            Assert.Equal(manifest, malformed.Manifest);
            Assert.False(string.IsNullOrEmpty(malformed.Reason));
        }
    }

    [Theory]
    [MemberData(nameof(MessageNames))]
    public void Trailing_bytes_after_a_message_yield_MalformedRequest(string name)
    {
        var message = MessageSamples.ByName[name];
        var serializer = Serializer;
        var bytes = serializer.ToBinary(message);
        var padded = new byte[bytes.Length + 1];
        bytes.CopyTo(padded, 0);

        var result = serializer.FromBinary(padded, serializer.Manifest(message));

        Assert.Contains("unexpected bytes", Assert.IsType<MalformedRequest>(result).Reason);
    }

    [Fact]
    public void Random_garbage_under_every_manifest_never_throws()
    {
        var serializer = Serializer;
        var random = new Random(12345);
        foreach (var message in MessageSamples.ByName.Values)
        {
            var manifest = serializer.Manifest(message);
            for (var i = 0; i < 2000; i++)
            {
                var garbage = new byte[random.Next(0, 200)];
                random.NextBytes(garbage);
                // Garbage may by chance spell a valid message; what matters is that reading it returns a value.
                Assert.IsAssignableFrom<IBrokerMessage>(serializer.FromBinary(garbage, manifest));
            }
        }
    }

    [Fact]
    public void Mutated_valid_messages_never_throw()
    {
        var serializer = Serializer;
        var random = new Random(54321);
        foreach (var message in MessageSamples.ByName.Values)
        {
            var manifest = serializer.Manifest(message);
            var bytes = serializer.ToBinary(message);
            if (bytes.Length == 0) continue;
            for (var i = 0; i < 500; i++)
            {
                var mutated = (byte[])bytes.Clone();
                for (var flips = random.Next(1, 4); flips > 0; flips--) mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
                Assert.IsAssignableFrom<IBrokerMessage>(serializer.FromBinary(mutated, manifest));
            }
        }
    }

    [Fact]
    public void Huge_length_prefix_yields_MalformedRequest_without_allocating_it()
    {
        var serializer = Serializer;
        // A FetchResponse whose record block claims int.MaxValue bytes.
        var w = new WireWriter();
        w.WriteString("orders");
        w.WriteInt32(0);
        w.WriteInt16(0);
        w.WriteString(null);
        w.WriteInt64(0);
        w.WriteInt64(0);
        w.WriteInt32(int.MaxValue);
        var bytes = w.ToArray();

        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = serializer.FromBinary(bytes, BrokerManifests.FetchResponse);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.IsType<MalformedRequest>(result);
        Assert.InRange(allocated, 0, 64 * 1024);
    }

    [Theory]
    [InlineData(BrokerManifests.ProduceRequest, 6)]
    [InlineData(BrokerManifests.ProduceResponse, 0)]
    [InlineData(BrokerManifests.CreateTopicsRequest, 0)]
    [InlineData(BrokerManifests.DeleteTopicsRequest, 0)]
    [InlineData(BrokerManifests.MetadataResponse, 0)]
    [InlineData(BrokerManifests.ClusterStatusResponse, 0)]
    public void Huge_count_yields_MalformedRequest_without_allocating_the_array(string manifest, int countOffset)
    {
        var bytes = new byte[countOffset + 4 + 64];
        bytes[countOffset] = 0x7F; // big-endian 0x7FFFFFFF
        bytes[countOffset + 1] = bytes[countOffset + 2] = bytes[countOffset + 3] = 0xFF;

        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = Serializer.FromBinary(bytes, manifest);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("does not fit", Assert.IsType<MalformedRequest>(result).Reason);
        Assert.InRange(allocated, 0, 64 * 1024);
    }

    [Fact]
    public void Negative_length_other_than_null_yields_MalformedRequest()
    {
        var w = new WireWriter();
        w.WriteInt32(-2); // topic length
        Assert.IsType<MalformedRequest>(Serializer.FromBinary(w.ToArray(), BrokerManifests.FetchRequest));
    }

    [Fact]
    public void Null_topic_name_yields_MalformedRequest()
    {
        var bytes = Serializer.ToBinary(new FetchRequest(null!, 0, 0, 1, 0));
        var result = Serializer.FromBinary(bytes, BrokerManifests.FetchRequest);
        Assert.Contains("name is null", Assert.IsType<MalformedRequest>(result).Reason);
    }

    [Theory]
    [InlineData("ZZ")]
    [InlineData("")]
    [InlineData("p")]
    public void Unknown_manifest_yields_MalformedRequest_naming_it(string manifest)
    {
        var result = Serializer.FromBinary([1, 2, 3], manifest);

        var malformed = Assert.IsType<MalformedRequest>(result);
        Assert.Equal(manifest, malformed.Manifest);
        Assert.Contains("unknown message manifest", malformed.Reason);
    }

    [Fact]
    public void Null_bytes_yield_MalformedRequest()
    {
        Assert.IsType<MalformedRequest>(Serializer.FromBinary(null!, BrokerManifests.FetchRequest));
    }

    [Fact]
    public void Serializing_a_type_it_does_not_know_is_a_bug_and_throws()
    {
        Assert.Throws<ArgumentException>(() => Serializer.ToBinary("not a broker message"));
        Assert.Throws<ArgumentException>(() => Serializer.Manifest("not a broker message"));
    }
}
