// Every protocol message survives ToBinary/FromBinary through an actor system configured only with
// ProtocolConfig.Default, which proves the HOCON binding and identifier as well as the codec.
using System.Runtime.InteropServices;
using Akka.Serialization;
using Broker.Protocol.Messages;
using Broker.Protocol.Serialization;
using Xunit;

namespace Broker.Protocol.Tests.Serialization;

public sealed class BrokerSerializerRoundTripTests() : Akka.TestKit.Xunit2.TestKit(ProtocolConfig.Default)
{
    public static TheoryData<string> MessageNames => MessageSamples.Names();

    [Fact]
    public void Every_message_type_has_a_sample()
    {
        var missing = typeof(IBrokerMessage).Assembly.GetTypes()
            .Where(t => typeof(IBrokerMessage).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .Select(t => t.Name)
            .Where(name => !MessageSamples.ByName.ContainsKey(name))
            .ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public void Manifests_are_distinct()
    {
        var serializer = new BrokerSerializer((Akka.Actor.ExtendedActorSystem)Sys);
        var manifests = MessageSamples.ByName.Values.Select(serializer.Manifest).ToList();
        Assert.Equal(manifests.Count, manifests.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void OffsetFetch_for_every_partition_keeps_its_null_list()
    {
        var all = Assert.IsType<OffsetFetchRequest>(RoundTrip(new OffsetFetchRequest("billing", null)));
        Assert.Null(all.Partitions);
        Assert.Equal("billing", all.GroupId);
    }

    [Fact]
    public void OffsetCommit_keeping_negative_offsets_says_so_and_a_native_commit_keeps_its_old_manifest()
    {
        var serializer = new BrokerSerializer((Akka.Actor.ExtendedActorSystem)Sys);
        var native = new OffsetCommitRequest("billing", 7, "m-1", [new OffsetCommitPartition("orders", 0, 42, null)]);
        var kafka = native with { Offsets = [new OffsetCommitPartition("orders", 0, -2, null)], KeepsNegativeOffsets = true };
        Assert.Equal("OC", serializer.Manifest(native));
        Assert.Equal("OC2", serializer.Manifest(kafka));
        Assert.False(Assert.IsType<OffsetCommitRequest>(RoundTrip(native)).KeepsNegativeOffsets);
        var back = Assert.IsType<OffsetCommitRequest>(RoundTrip(kafka));
        Assert.True(back.KeepsNegativeOffsets);
        Assert.Equal(-2, back.Offsets.Single().Offset);
    }

    [Fact]
    public void Group_listings_and_descriptions_carry_the_group_type_and_their_older_layouts_read_as_classic()
    {
        var serializer = new BrokerSerializer((Akka.Actor.ExtendedActorSystem)Sys);
        var listed = new ListGroupsResponse(ErrorCode.None, null, [new GroupListing("billing", "Stable", "consumer", 2, GroupType.Consumer)]);
        var described = new DescribeGroupResponse(ErrorCode.None, null, "billing", "Stable", "consumer", "uniform", 3, [], [], GroupType.Consumer);
        Assert.Equal(("LGSR2", "DGR2"), (serializer.Manifest(listed), serializer.Manifest(described)));
        Assert.Equal(GroupType.Consumer, Assert.IsType<ListGroupsResponse>(RoundTrip(listed)).Groups.Single().Type);
        Assert.Equal(GroupType.Consumer, Assert.IsType<DescribeGroupResponse>(RoundTrip(described)).Type);

        // A node before group types wrote the same layouts without the type byte (each message's last byte here).
        var oldListing = serializer.ToBinary(listed)[..^1];
        var oldDescription = serializer.ToBinary(described)[..^1];
        var listedBefore = Assert.IsType<ListGroupsResponse>(serializer.FromBinary(oldListing, "LGSR")).Groups.Single();
        Assert.Equal(("billing", 2, GroupType.Classic), (listedBefore.GroupId, listedBefore.Members, listedBefore.Type));
        var describedBefore = Assert.IsType<DescribeGroupResponse>(serializer.FromBinary(oldDescription, "DGR"));
        Assert.Equal(("billing", 3, GroupType.Classic), (describedBefore.GroupId, describedBefore.GenerationId, describedBefore.Type));
    }

    [Theory]
    [MemberData(nameof(MessageNames))]
    public void Message_round_trips_through_the_bound_serializer(string name)
    {
        var message = MessageSamples.ByName[name];
        StructuralAssert.Equal(message, RoundTrip(message));
    }

    [Fact]
    public void MetadataRequest_keeps_null_topics_distinct_from_empty_topics()
    {
        Assert.Null(((MetadataRequest)RoundTrip(new MetadataRequest(null))).Topics);
        var empty = ((MetadataRequest)RoundTrip(new MetadataRequest([]))).Topics;
        Assert.NotNull(empty);
        Assert.Empty(empty);
    }

    [Fact]
    public void Nullable_strings_keep_null_distinct_from_empty()
    {
        Assert.Null(((ErrorResponse)RoundTrip(new ErrorResponse(ErrorCode.Unknown, null))).ErrorMessage);
        Assert.Equal("", ((ErrorResponse)RoundTrip(new ErrorResponse(ErrorCode.Unknown, ""))).ErrorMessage);
    }

    [Fact]
    public void Empty_collections_round_trip_as_empty()
    {
        var messages = new IBrokerMessage[]
        {
            new ProduceRequest(1, 0, []),
            new ProduceResponse([]),
            new CreateTopicsRequest([new TopicSpec("t", 1, 1, new Dictionary<string, string>())]),
            new CreateTopicsResponse([]),
            new DeleteTopicsRequest([]),
            new DeleteTopicsResponse([]),
            new MetadataResponse([], []),
            new ClusterStatusResponse([], []),
            new FetchResponse("t", 0, ErrorCode.None, null, 0, 0, ReadOnlyMemory<byte>.Empty),
        };
        foreach (var message in messages) StructuralAssert.Equal(message, RoundTrip(message), message.GetType().Name);
    }

    [Fact]
    public void Null_required_collections_are_sent_as_empty()
    {
        var produce = (ProduceRequest)RoundTrip(new ProduceRequest(1, 0, null!));
        Assert.Empty(produce.Partitions);
        var create = (CreateTopicsRequest)RoundTrip(new CreateTopicsRequest([new TopicSpec("t", 1, 1, null!)]));
        Assert.Empty(create.Topics[0].Configs);
        var metadata = (MetadataResponse)RoundTrip(new MetadataResponse(null!, null!));
        Assert.Empty(metadata.Brokers);
        Assert.Empty(metadata.Topics);
    }

    [Fact]
    public void One_megabyte_fetch_response_is_read_back_as_a_slice_of_the_frame()
    {
        var records = MessageSamples.Bytes(1 << 20);
        var message = new FetchResponse("orders", 0, ErrorCode.None, null, 5000, 0, records);
        var (serializer, manifest) = Bound(message);

        var bytes = serializer.ToBinary(message);
        var back = (FetchResponse)serializer.FromBinary(bytes, manifest);

        Assert.True(back.Records.Span.SequenceEqual(records));
        Assert.True(MemoryMarshal.TryGetArray(back.Records, out var segment));
        Assert.Same(bytes, segment.Array);
    }

    [Fact]
    public void One_megabyte_produce_request_keeps_every_batch_as_a_slice()
    {
        var first = MessageSamples.Bytes(1 << 20, 1);
        var second = MessageSamples.Bytes(1000, 2);
        var message = new ProduceRequest(1, 1000, [new ProducePartitionData("a", 0, first), new ProducePartitionData("b", 1, second)]);
        var (serializer, manifest) = Bound(message);

        var bytes = serializer.ToBinary(message);
        var back = (ProduceRequest)serializer.FromBinary(bytes, manifest);

        StructuralAssert.Equal(message, back);
        foreach (var part in back.Partitions)
        {
            Assert.True(MemoryMarshal.TryGetArray(part.Batch, out var segment));
            Assert.Same(bytes, segment.Array);
        }
    }

    [Fact]
    public void Encoded_produce_request_is_sent_as_the_bytes_written_when_it_was_encoded()
    {
        var source = MessageSamples.Bytes(5000, 3);
        var message = ProduceRequest.Encode(1, 1000, [new ProducePartitionData("a", 0, source.AsMemory(0, 3000)), new ProducePartitionData("b", 2, source.AsMemory(3000))]);
        source.AsSpan().Clear(); // the caller may reuse its buffers as soon as Encode returns
        var (serializer, manifest) = Bound(message);

        var bytes = serializer.ToBinary(message);
        var plain = serializer.ToBinary(new ProduceRequest(1, 1000, [.. message.Partitions]));
        var back = (ProduceRequest)serializer.FromBinary(bytes, manifest);

        Assert.Equal(plain, bytes);
        Assert.Same(bytes, serializer.ToBinary(message));
        StructuralAssert.Equal(message, back);
        Assert.True(back.Partitions[1].Batch.Span.SequenceEqual(MessageSamples.Bytes(5000, 3).AsSpan(3000)));
    }

    [Fact]
    public void Changed_copy_of_an_encoded_produce_request_is_serialized_afresh()
    {
        var message = ProduceRequest.Encode(1, 1000, [new ProducePartitionData("a", 0, MessageSamples.Bytes(100, 1))]);
        var changed = message with { Acks = 0, Partitions = [new ProducePartitionData("b", 1, MessageSamples.Bytes(10, 2))] };
        var (serializer, manifest) = Bound(changed);

        var back = (ProduceRequest)serializer.FromBinary(serializer.ToBinary(changed), manifest);

        StructuralAssert.Equal(changed, back);
    }

    [Fact]
    public void Batch_messages_are_written_with_a_single_copy_of_the_batch()
    {
        var batch = MessageSamples.Bytes(1 << 20);
        var messages = new IBrokerMessage[]
        {
            new FetchResponse("orders", 0, ErrorCode.None, null, 1, 0, batch),
            new ProduceRequest(1, 1000, [new ProducePartitionData("orders", 0, batch)]),
        };
        foreach (var message in messages)
        {
            var (serializer, _) = Bound(message);
            serializer.ToBinary(message); // warm up: JIT and first-use allocations
            var before = GC.GetAllocatedBytesForCurrentThread();
            var bytes = serializer.ToBinary(message);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            // The frame itself is the only large allocation: no scratch buffer, no trimming copy. The slack
            // absorbs small runtime allocations that land on this thread now and then.
            Assert.InRange(allocated, bytes.Length, bytes.Length + 64 * 1024);
        }
    }

    [Fact]
    public void Reading_a_one_megabyte_batch_message_does_not_copy_the_batch()
    {
        var message = new FetchResponse("orders", 0, ErrorCode.None, null, 1, 0, MessageSamples.Bytes(1 << 20));
        var (serializer, manifest) = Bound(message);
        var bytes = serializer.ToBinary(message);
        serializer.FromBinary(bytes, manifest);

        var before = GC.GetAllocatedBytesForCurrentThread();
        serializer.FromBinary(bytes, manifest);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 64 * 1024);
    }

    [Fact]
    public void Serialization_registry_finds_the_serializer_by_identifier()
    {
        var message = MessageSamples.ByName[nameof(FetchRequest)];
        var (serializer, manifest) = Bound(message);
        var bytes = serializer.ToBinary(message);

        var back = Sys.Serialization.Deserialize(bytes, BrokerSerializer.Id, manifest);

        StructuralAssert.Equal(message, back);
    }

    private (SerializerWithStringManifest Serializer, string Manifest) Bound(object message)
    {
        var serializer = Assert.IsType<BrokerSerializer>(Sys.Serialization.FindSerializerFor(message));
        Assert.Equal(BrokerSerializer.Id, serializer.Identifier);
        return (serializer, serializer.Manifest(message));
    }

    private IBrokerMessage RoundTrip(IBrokerMessage message)
    {
        var (serializer, manifest) = Bound(message);
        var back = serializer.FromBinary(serializer.ToBinary(message), manifest);
        if (message is not MalformedRequest)
            Assert.False(back is MalformedRequest, $"read back as {back}");
        return Assert.IsAssignableFrom<IBrokerMessage>(back);
    }
}
