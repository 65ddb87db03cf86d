// One representative value of every protocol message, with nulls, empty strings and non-ASCII text
// where the contract allows them; shared by the round-trip, malformed-input and serialize-messages tests.
using Broker.Protocol.Messages;
using Xunit;

namespace Broker.Protocol.Tests.Serialization;

internal static class MessageSamples
{
    public static readonly IReadOnlyDictionary<string, IBrokerMessage> ByName = Build();

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in ByName.Keys) data.Add(name);
        return data;
    }

    public static byte[] Bytes(int length, int seed = 7)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static Dictionary<string, IBrokerMessage> Build()
    {
        var broker = new BrokerInfo("akka.tcp://broker@10.0.0.1:4053", "10.0.0.1", 4053, ["broker", "gateway"], "Up") { NodeId = 7 };
        var lonely = new BrokerInfo("akka.tcp://broker@10.0.0.2:4053", "10.0.0.2", 4053, [], "Unreachable");
        var configs = new Dictionary<string, string> { ["retention.ms"] = "604800000", ["max.message.bytes"] = "1048576" };

        var samples = new IBrokerMessage[]
        {
            new ProduceRequest(-1, 30_000,
            [
                new ProducePartitionData("orders", 0, Bytes(300, 1)),
                new ProducePartitionData("bestellungen-ü", 7, Bytes(61, 2)),
                new ProducePartitionData("empty-batch", 1, ReadOnlyMemory<byte>.Empty),
            ]),
            new ProduceResponse(
            [
                new ProducePartitionResult("orders", 0, ErrorCode.None, null, 42),
                new ProducePartitionResult("orders", 1, ErrorCode.NotLeader, "partition moved", -1),
                new ProducePartitionResult("orders", 2, ErrorCode.CorruptRecord, "", -1),
            ]),
            new FetchRequest("orders", 3, long.MaxValue - 1, 1 << 20, 500) { CurrentLeaderEpoch = 12, ClientRack = "eu-west-1a" },
            new FetchResponse("orders", 3, ErrorCode.None, null, 1_000_000_000_000, 17, Bytes(4096, 4)) { LeaderEpoch = 12 },
            new ListOffsetsRequest("orders", 0, OffsetSpec.Earliest),
            new ListOffsetsResponse("orders", 0, ErrorCode.OffsetOutOfRange, "日本語のメッセージ", -1, long.MinValue),
            new CreateTopicsRequest(
            [
                new TopicSpec("orders", 12, 1, configs),
                new TopicSpec("no-configs", 1, 3, new Dictionary<string, string>()),
            ]),
            new CreateTopicsResponse([new TopicResult("orders", ErrorCode.None, null), new TopicResult("bad name", ErrorCode.InvalidTopic, "illegal character ' '")]),
            new DeleteTopicsRequest(["orders", "payments"]),
            new DeleteTopicsResponse([new TopicResult("payments", ErrorCode.UnknownTopic, "no such topic")]),
            new ReassignPartitionsRequest([new PartitionReassignment("orders", 0, [4, 1, 2]), new PartitionReassignment("payments", 3, [])]),
            new ReassignPartitionsResponse([new ReassignmentResult("orders", 0, ErrorCode.None, null), new ReassignmentResult("payments", 3, ErrorCode.InvalidReplicaAssignment, "needs 3 replicas")]),
            new OffsetForLeaderEpochRequest("orders", 2, 5, 4),
            new OffsetForLeaderEpochResponse("orders", 2, ErrorCode.None, null, 4, 1200),
            new DescribeProducersRequest("orders", 2),
            new DescribeProducersResponse("orders", 2, ErrorCode.None, null, [new ProducerDescription(4294967297, 3, 41, 1700000000000)]),
            new DeleteRecordsRequest("orders", 2, 1000),
            new DeleteRecordsResponse("orders", 2, ErrorCode.OffsetOutOfRange, "beyond the high watermark", 12),
            new AlterTopicConfigsRequest([new TopicConfigAlteration("orders", [new TopicConfigChange("retention.ms", ConfigOperation.Set, "1000"), new TopicConfigChange("retention.bytes", ConfigOperation.Delete, null)])], ValidateOnly: true),
            new AlterTopicConfigsResponse([new TopicResult("orders", ErrorCode.InvalidConfig, "retention.ms must be a whole number")]),
            new CreatePartitionsRequest([new PartitionCountChange("orders", 6)]),
            new CreatePartitionsResponse([new TopicResult("orders", ErrorCode.InvalidPartitions, "already has 6 partitions")]),
            new MetadataRequest(["orders"]),
            new MetadataResponse([broker, lonely],
            [
                new TopicMetadata("orders", "3f2b0a6c-0000-4000-8000-000000000001", ErrorCode.None, null, 1, configs,
                [
                    new PartitionMetadata(0, broker.Address, 0, 100, ErrorCode.None, null)
                    {
                        LeaderId = 7, LeaderEpoch = 3, HighWatermark = 90, Replicas = [7, 8, 9], Isr = [7, 8], OfflineReplicas = [9],
                        AddingReplicas = [8], RemovingReplicas = [9],
                    },
                    new PartitionMetadata(1, "", -1, -1, ErrorCode.BrokerNotAvailable, "no node hosts it"),
                ]),
                new TopicMetadata("missing", "", ErrorCode.UnknownTopic, "no such topic", 0, new Dictionary<string, string>(), []),
            ]),
            new InitProducerIdRequest(),
            new InitProducerIdResponse(ErrorCode.None, null, 3L << 32 | 1001, 0),
            new ClusterStatusRequest(),
            new ClusterStatusResponse([broker, lonely], [new HostedPartition("orders", 0, broker.Address), new HostedPartition("orders", 1, lonely.Address)]),
            new ErrorResponse(ErrorCode.InvalidRequest, "unreadable request"),
            new MalformedRequest("P", "message truncated: needed 4 bytes, 1 left"),
            new LoginRequest("alice", "alice-secret"),
            new LoginResponse(ErrorCode.AuthenticationFailed, "unknown user or wrong password", "session-00ff"),
            new JoinGroupRequest("billing", "", "consumer-1", 10_000, 30_000, "consumer",
                [new GroupProtocol("sticky", Bytes(40, 5)), new GroupProtocol("range", [])]),
            new JoinGroupResponse(ErrorCode.None, null, 7, "range", "m-1", "m-2",
                [new JoinGroupMember("m-1", Bytes(12, 6)), new JoinGroupMember("m-2", [])]),
            new SyncGroupRequest("billing", 7, "m-1", [new SyncGroupAssignment("m-1", Bytes(20, 8))]),
            new SyncGroupResponse(ErrorCode.RebalanceInProgress, "rejoin", Bytes(16, 9)),
            new HeartbeatRequest("billing", 7, "m-1"),
            new HeartbeatResponse(ErrorCode.IllegalGeneration, "generation 6 is stale; the group is at 7"),
            new LeaveGroupRequest("billing", "m-1"),
            new LeaveGroupResponse(ErrorCode.UnknownMemberId, "no such member"),
            new ConsumerGroupHeartbeatRequest("billing", "m-ü", 3, "rdkafka", 300_000, ["orders", "payments"], "uniform", [new TopicPartition("orders", 1), new TopicPartition("payments", 0)]),
            new ConsumerGroupHeartbeatResponse(ErrorCode.FencedMemberEpoch, "epoch 3 is not 4", "m-ü", 4, 5000, null),
            new DescribeConsumerGroupRequest("billing"),
            new DescribeConsumerGroupResponse(ErrorCode.None, null, "billing", "Reconciling", 5, 5, "range",
            [
                new ConsumerGroupMemberDescription("m-1", "rdkafka", 5, ["orders"], [new TopicPartition("orders", 0)], [new TopicPartition("orders", 0), new TopicPartition("orders", 1)]),
                new ConsumerGroupMemberDescription("m-2", "", 4, [], [], []),
            ]),
            new OffsetCommitRequest("billing", 7, "m-1",
                [new OffsetCommitPartition("orders", 0, 42, null), new OffsetCommitPartition("bestellungen-ü", 3, 0, "meta")]),
            new OffsetCommitResponse(ErrorCode.None, null,
                [new OffsetCommitPartitionResult("orders", 0, ErrorCode.None, null), new OffsetCommitPartitionResult("orders", 5, ErrorCode.PartitionNotAssigned, "not yours")]),
            new OffsetFetchRequest("billing", [new TopicPartition("orders", 0), new TopicPartition("orders", 1)]),
            new OffsetFetchResponse(ErrorCode.None, null, [new CommittedOffset("orders", 0, 42, "meta"), new CommittedOffset("orders", 1, -1, null)]),
            new DeleteGroupRequest("billing"),
            new DeleteGroupResponse(ErrorCode.NonEmptyGroup, "group billing has 2 member(s)", "billing"),
            new DeleteGroupOffsetsRequest("billing", [new TopicPartition("orders", 0), new TopicPartition("orders", 1)]),
            new DeleteGroupOffsetsResponse(ErrorCode.None, null, [new GroupOffsetDeletion("orders", 0, ErrorCode.GroupSubscribedToTopic), new GroupOffsetDeletion("orders", 1, ErrorCode.None)]),
            new DescribeGroupRequest("billing"),
            new DescribeGroupResponse(ErrorCode.None, null, "billing", "Stable", "consumer", "range", 7,
                [new GroupMemberDescription("m-1", "consumer-1", [new TopicPartition("orders", 0)]), new GroupMemberDescription("m-2", "", [])],
                [new CommittedOffset("orders", 0, 42, null)], GroupType.Consumer),
            new ListGroupsRequest(),
            new ListGroupsResponse(ErrorCode.None, null, [new GroupListing("billing", "Stable", "consumer", 2, GroupType.Consumer), new GroupListing("old", "Empty", "", 0)]),
        };

        var byName = new Dictionary<string, IBrokerMessage>(StringComparer.Ordinal);
        foreach (var sample in samples) byName.Add(sample.GetType().Name, sample);
        return byName;
    }
}
