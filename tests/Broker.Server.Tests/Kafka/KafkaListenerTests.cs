using System.Buffers.Binary;
using System.Net.Sockets;
using Broker.Kafka;
using Broker.Kafka.Messages;
using Broker.Server.Kafka;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Kafka;

/// <summary>
/// The Kafka listener on a whole node, spoken to over raw sockets: framing, header versions, response
/// order, acks=0, and that a bad client (unknown API, oversized or malformed frame, hanging up mid-request)
/// loses its own connection and nothing else.
/// </summary>
public sealed partial class KafkaListenerTests(ITestOutputHelper output) : KafkaListenerTestKit(output)
{
    internal static byte[] Frame(short apiKey, short version, int correlationId, IKafkaMessage? body, string? clientId = "test")
    {
        using var writer = new KafkaWriter();
        var size = writer.ReserveInt32();
        var api = KafkaApis.Find(apiKey);
        var header = new RequestHeader { RequestApiKey = apiKey, RequestApiVersion = version, CorrelationId = correlationId, ClientId = clientId };
        header.Write(writer, api?.RequestHeaderVersion(version) ?? 1);
        body?.Write(writer, version);
        writer.PatchInt32(size, writer.Length - 4);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Reads one response frame: its correlation id and a reader positioned after the response header.</summary>
    internal static async Task<(int CorrelationId, byte[] Body)> ReadResponseAsync(Socket socket, bool flexibleHeader)
    {
        var prefix = await ReadExactlyAsync(socket, 4);
        var frame = await ReadExactlyAsync(socket, BinaryPrimitives.ReadInt32BigEndian(prefix));
        var reader = new KafkaReader(frame);
        var header = ResponseHeader.Read(ref reader, flexibleHeader ? (short)1 : (short)0);
        return (header.CorrelationId, frame[reader.Position..]);
    }

    private static async Task<byte[]> ReadExactlyAsync(Socket socket, int count)
    {
        var buffer = new byte[count];
        var read = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (read < count)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, timeout.Token);
            if (n == 0) throw new IOException($"connection closed after {read} of {count} bytes");
            read += n;
        }
        return buffer;
    }

    private static async Task AssertClosedAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            var n = await socket.ReceiveAsync(new byte[64], SocketFlags.None, timeout.Token);
            Assert.Equal(0, n);
        }
        catch (SocketException)
        {
            // reset by the node: closed as well
        }
    }

    internal static T Parse<T>(byte[] body, short version, ReadFn<T> read)
    {
        var reader = new KafkaReader(body);
        var message = read(ref reader, version);
        Assert.Equal(0, reader.Remaining);
        return message;
    }

    internal delegate T ReadFn<out T>(ref KafkaReader reader, short version);

    private async Task AssertServingAsync()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(ApiVersionsRequest.Api, 0, 77, new ApiVersionsRequest()));
        var (id, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        Assert.Equal(77, id);
        Assert.Equal(0, Parse(body, 0, ApiVersionsResponse.Read).ErrorCode);
    }

    [Fact]
    public async Task ApiVersions_v0_and_v3_list_every_advertised_api_with_a_v0_response_header()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(ApiVersionsRequest.Api, 0, 1, new ApiVersionsRequest()));
        var (id, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        Assert.Equal(1, id);
        var v0 = Parse(body, 0, ApiVersionsResponse.Read);
        var produce = Assert.Single(v0.ApiKeys, k => k.ApiKey == ProduceRequest.Api);
        Assert.Equal((0, 11), (produce.MinVersion, produce.MaxVersion));
        var fetch = Assert.Single(v0.ApiKeys, k => k.ApiKey == FetchRequest.Api);
        Assert.Equal((4, 17), (fetch.MinVersion, fetch.MaxVersion));

        // v3 is flexible, but its response header stays v0 so that any client can read it.
        await socket.SendAsync(Frame(ApiVersionsRequest.Api, 3, 2, new ApiVersionsRequest { ClientSoftwareName = "test", ClientSoftwareVersion = "1" }));
        (id, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        Assert.Equal(2, id);
        Assert.Equal(v0.ApiKeys.Count, Parse(body, 3, ApiVersionsResponse.Read).ApiKeys.Count);
    }

    [Fact]
    public async Task ApiVersions_at_a_version_we_do_not_know_gets_UNSUPPORTED_VERSION_with_our_range_in_v0()
    {
        using var socket = await ConnectAsync();
        var frame = Frame(ApiVersionsRequest.Api, 9, 5, body: null);
        await socket.SendAsync(Resize(frame.Concat(new byte[] { 0xFF, 0x13, 0x37 }).ToArray()));
        var (id, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        Assert.Equal(5, id);
        var response = Parse(body, 0, ApiVersionsResponse.Read);
        Assert.Equal(35, response.ErrorCode);
        var own = Assert.Single(response.ApiKeys);
        Assert.Equal((ApiVersionsRequest.Api, (short)0, (short)4), (own.ApiKey, own.MinVersion, own.MaxVersion));
    }

    /// <summary>Fixes the size prefix of a frame whose body was appended to.</summary>
    private static byte[] Resize(byte[] frame)
    {
        BinaryPrimitives.WriteInt32BigEndian(frame, frame.Length - 4);
        return frame;
    }

    [Fact]
    public async Task Responses_leave_in_request_order_and_a_produce_with_acks_0_gets_none()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(CreateTopicsRequest.Api, 4, 10, new CreateTopicsRequest
        {
            Topics = [new() { Name = "ordered", NumPartitions = 1, ReplicationFactor = -1 }],
            TimeoutMs = 10000,
        }));
        var (id, body) = await ReadResponseAsync(socket, flexibleHeader: false); // CreateTopics is flexible from v5
        Assert.Equal(10, id);
        Assert.Equal(0, Parse(body, 4, CreateTopicsResponse.Read).Topics[0].ErrorCode);
        await Broker.Tests.Eventually.TrueAsync(async () => await LatestOffsetAsync(socket, "ordered") == 0, TimeSpan.FromSeconds(15), "the new partition to have a leader");

        // A fetch at the log end waits up to 1 s; the ApiVersions behind it is answered at once but must wait its turn.
        var fetch = new FetchRequest
        {
            ReplicaId = -1, MaxWaitMs = 1000, MinBytes = 1, MaxBytes = 1 << 20,
            Topics = [new() { Topic = "ordered", Partitions = [new() { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] }],
        };
        var produce = new ProduceRequest
        {
            Acks = 0, TimeoutMs = 5000,
            TopicData = [new() { Name = "ordered", PartitionData = [new() { Index = 0, Records = Batch(3) }] }],
        };
        await socket.SendAsync(Frame(FetchRequest.Api, 11, 11, fetch)
            .Concat(Frame(ProduceRequest.Api, 8, 12, produce))
            .Concat(Frame(ApiVersionsRequest.Api, 0, 13, new ApiVersionsRequest()))
            .ToArray());

        (id, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        Assert.Equal(11, id);
        Assert.Equal("ordered", Parse(body, 11, FetchResponse.Read).Responses[0].Topic);
        (id, _) = await ReadResponseAsync(socket, flexibleHeader: false);
        Assert.Equal(13, id); // 12 was acks=0: no response at all

        // The acks=0 batch was stored all the same.
        await Broker.Tests.Eventually.TrueAsync(async () => await LatestOffsetAsync(socket, "ordered") == 3, TimeSpan.FromSeconds(15), "the acks=0 batch to be stored");
    }

    /// <summary>ListOffsets(latest) on partition 0: the high watermark, or -1 while the partition has no leader.</summary>
    private static async Task<long> LatestOffsetAsync(Socket socket, string topic)
    {
        await socket.SendAsync(Frame(ListOffsetsRequest.Api, 5, 99, new ListOffsetsRequest
        {
            ReplicaId = -1,
            Topics = [new() { Name = topic, Partitions = [new() { PartitionIndex = 0, Timestamp = -1 }] }],
        }));
        var (id, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        Assert.Equal(99, id);
        var partition = Parse(body, 5, ListOffsetsResponse.Read).Topics[0].Partitions[0];
        return partition.ErrorCode == 0 ? partition.Offset : -1;
    }

    [Fact]
    public async Task Unknown_api_key_closes_only_that_connection()
    {
        using var bystander = await ConnectAsync();
        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(999, 0, 1, body: null));
        await AssertClosedAsync(socket);
        await bystander.SendAsync(Frame(ApiVersionsRequest.Api, 0, 2, new ApiVersionsRequest()));
        Assert.Equal(2, (await ReadResponseAsync(bystander, flexibleHeader: false)).CorrelationId);
    }

    [Fact]
    public async Task Oversized_frame_closes_the_connection_and_the_node_keeps_serving()
    {
        using var socket = await ConnectAsync();
        var prefix = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(prefix, int.MaxValue);
        await socket.SendAsync(prefix);
        await AssertClosedAsync(socket);
        await AssertServingAsync();
    }

    [Fact]
    public async Task Malformed_request_closes_the_connection_and_the_node_keeps_serving()
    {
        using var socket = await ConnectAsync();
        // Metadata v1 claiming a million topics in a 4-byte body.
        var frame = Frame(MetadataRequest.Api, 1, 3, body: null).Concat(new byte[] { 0x00, 0x0F, 0x42, 0x40 }).ToArray();
        await socket.SendAsync(Resize(frame));
        await AssertClosedAsync(socket);
        await AssertServingAsync();
    }

    [Fact]
    public async Task Client_that_hangs_up_mid_request_leaves_the_node_serving()
    {
        using (var socket = await ConnectAsync())
        {
            var frame = Frame(MetadataRequest.Api, 8, 4, new MetadataRequest { Topics = null });
            await socket.SendAsync(frame.AsMemory(0, frame.Length / 2));
            socket.Shutdown(SocketShutdown.Both);
        }
        await AssertServingAsync();
    }

    [Fact]
    public async Task Unsupported_produce_version_closes_the_connection()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(ProduceRequest.Api, 12, 1, new ProduceRequest { Acks = 1 }));
        await AssertClosedAsync(socket);
        await AssertServingAsync();
    }

    [Fact]
    public async Task FindCoordinator_names_this_node_and_an_unknown_group_has_no_committed_offsets()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(FindCoordinatorRequest.Api, 2, 1, new FindCoordinatorRequest { Key = "g", KeyType = 0 }));
        var (_, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        var coordinator = Parse(body, 2, FindCoordinatorResponse.Read);
        Assert.Equal((0, "127.0.0.1", Listener.BoundPort), (coordinator.ErrorCode, coordinator.Host, coordinator.Port));

        await socket.SendAsync(Frame(FindCoordinatorRequest.Api, 1, 2, new FindCoordinatorRequest { Key = "tx", KeyType = 1 }));
        (_, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        Assert.Equal(15, Parse(body, 1, FindCoordinatorResponse.Read).ErrorCode); // COORDINATOR_NOT_AVAILABLE: no transactions

        await socket.SendAsync(Frame(OffsetFetchRequest.Api, 5, 3, new OffsetFetchRequest
        {
            GroupId = "never-seen",
            Topics = [new() { Name = "t", PartitionIndexes = [0, 1] }],
        }));
        (_, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        var fetched = Parse(body, 5, OffsetFetchResponse.Read);
        Assert.Equal(0, fetched.ErrorCode);
        Assert.Equal([-1L, -1L], fetched.Topics.Single().Partitions.Select(p => p.CommittedOffset));
    }

    [Fact]
    public async Task OffsetCommit_keeps_a_negative_offset_as_Kafka_does_and_OffsetFetch_returns_it()
    {
        // kafkajs resets a group by committing -2 (earliest) or -1 (latest); Kafka stores any offset as given.
        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(OffsetCommitRequest.Api, 7, 1, new OffsetCommitRequest
        {
            GroupId = "reset-group", GenerationIdOrMemberEpoch = -1, MemberId = "",
            Topics = [new() { Name = "reset", Partitions = [new() { PartitionIndex = 0, CommittedOffset = -2 }, new() { PartitionIndex = 1, CommittedOffset = 5 }] }],
        }));
        var (_, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        Assert.Equal([(short)0, (short)0], Parse(body, 7, OffsetCommitResponse.Read).Topics.Single().Partitions.Select(p => p.ErrorCode));

        await socket.SendAsync(Frame(OffsetFetchRequest.Api, 5, 2, new OffsetFetchRequest
        {
            GroupId = "reset-group",
            Topics = [new() { Name = "reset", PartitionIndexes = [0, 1] }],
        }));
        (_, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        Assert.Equal([-2L, 5L], Parse(body, 5, OffsetFetchResponse.Read).Topics.Single().Partitions.Select(p => p.CommittedOffset));
    }

    [Fact]
    public async Task A_group_is_either_native_or_Kafka_a_Kafka_member_joining_a_native_group_gets_INCONSISTENT_GROUP_PROTOCOL()
    {
        CreateTopic("mixed", 2);
        var subscription = Broker.Protocol.Groups.ConsumerProtocol.EncodeSubscription(new Broker.Protocol.Groups.ConsumerSubscription(["mixed"], []));
        var native = Request<Broker.Protocol.Messages.JoinGroupResponse>(new Broker.Protocol.Messages.JoinGroupRequest(
            "mixed-group", "", "native", 10_000, 10_000, "consumer", [new Broker.Protocol.Messages.GroupProtocol("range", subscription)]));
        Assert.Equal(Broker.Protocol.ErrorCode.None, native.Error);

        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(JoinGroupRequest.Api, 5, 1, new JoinGroupRequest
        {
            GroupId = "mixed-group", SessionTimeoutMs = 10_000, RebalanceTimeoutMs = 10_000, MemberId = "", ProtocolType = "consumer",
            Protocols = [new() { Name = "range", Metadata = KafkaSubscription("mixed") }],
        }));
        var (_, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        Assert.Equal(23, Parse(body, 5, JoinGroupResponse.Read).ErrorCode);
    }

    /// <summary>A Kafka consumer's subscription (ConsumerProtocolSubscription v1 with its version prefix).</summary>
    private static byte[] KafkaSubscription(string topic)
    {
        using var writer = new KafkaWriter();
        writer.WriteInt16(1);
        new ConsumerProtocolSubscription { Topics = [topic] }.Write(writer, 1);
        return writer.WrittenSpan.ToArray();
    }

    [Fact]
    public async Task InitProducerId_gives_an_idempotent_producer_a_new_id_and_refuses_a_transactional_one()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(InitProducerIdRequest.Api, 1, 1, new InitProducerIdRequest { TransactionalId = null, TransactionTimeoutMs = 60_000 }));
        await socket.SendAsync(Frame(InitProducerIdRequest.Api, 0, 2, new InitProducerIdRequest { TransactionalId = null, TransactionTimeoutMs = 60_000 }));
        var first = Parse((await ReadResponseAsync(socket, flexibleHeader: false)).Body, 1, InitProducerIdResponse.Read);
        var second = Parse((await ReadResponseAsync(socket, flexibleHeader: false)).Body, 0, InitProducerIdResponse.Read);
        Assert.Equal((0, (short)0), (first.ErrorCode, first.ProducerEpoch));
        Assert.Equal(0, second.ErrorCode);
        Assert.True(first.ProducerId >= 0 && second.ProducerId >= 0 && first.ProducerId != second.ProducerId, $"ids {first.ProducerId}, {second.ProducerId}");

        await socket.SendAsync(Frame(InitProducerIdRequest.Api, 1, 3, new InitProducerIdRequest { TransactionalId = "tx-1", TransactionTimeoutMs = 60_000 }));
        var transactional = Parse((await ReadResponseAsync(socket, flexibleHeader: false)).Body, 1, InitProducerIdResponse.Read);
        Assert.Equal(42, transactional.ErrorCode); // INVALID_REQUEST: no transactions
        Assert.Equal(-1, transactional.ProducerId);
    }

    [Fact]
    public async Task Sasl_is_refused_with_an_error_until_the_security_work_lands()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(SaslHandshakeRequest.Api, 1, 1, new SaslHandshakeRequest { Mechanism = "PLAIN" }));
        var (_, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        Assert.Equal(33, Parse(body, 1, SaslHandshakeResponse.Read).ErrorCode); // UNSUPPORTED_SASL_MECHANISM
        await socket.SendAsync(Frame(SaslAuthenticateRequest.Api, 1, 2, new SaslAuthenticateRequest { AuthBytes = [0, 1, 2] }));
        (_, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        Assert.Equal(58, Parse(body, 1, SaslAuthenticateResponse.Read).ErrorCode); // SASL_AUTHENTICATION_FAILED
    }

    [Fact]
    public async Task Produce_with_acks_other_than_minus_1_0_or_1_gets_INVALID_REQUIRED_ACKS()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(ProduceRequest.Api, 8, 1, new ProduceRequest
        {
            Acks = 2, TimeoutMs = 1000,
            TopicData = [new() { Name = "any", PartitionData = [new() { Index = 0, Records = Batch(1) }] }],
        }));
        var (_, body) = await ReadResponseAsync(socket, flexibleHeader: false);
        Assert.Equal(21, Parse(body, 8, ProduceResponse.Read).Responses[0].PartitionResponses[0].ErrorCode);
    }
}
