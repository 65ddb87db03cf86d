using Broker.Kafka.Messages;
using Xunit;
using static Broker.Kafka.Tests.Messages.Codec;

namespace Broker.Kafka.Tests.Messages;

/// <summary>
/// Every API the listener advertises (KafkaApis), request and response at its lowest and highest advertised
/// version, against bytes written out field by field from Kafka's JSON schema (not from our writer): the
/// message built in code must encode to them, and reading them must give the fields back and write them again
/// unchanged. ApiVersions, Metadata, Produce v3-8, Fetch and JoinGroup are in <see cref="KnownEncodingTests"/>.
/// The highest versions here were issue 8's; issue 15 raised them to Kafka 4.x's, which
/// <see cref="NewestVersionEncodingTests"/> covers for every API.
/// Each layout names its schema fields in order; a field outside the version is left out with a note.
/// </summary>
public sealed class AdvertisedVersionEncodingTests
{
    [Fact]
    public void ListOffsets_v1_and_v5()
    {
        var request = new ListOffsetsRequest
        {
            ReplicaId = -1, IsolationLevel = 1,
            Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 2, CurrentLeaderEpoch = 7, Timestamp = -2 }] }],
        };
        var requestV1 = new Wire()
            .I32(-1)                // replica_id
                                    // isolation_level: v2+
            .Arr(1)                 // topics
            .Str("orders")          //   name
            .Arr(1)                 //   partitions
            .I32(2)                 //     partition_index
                                    //     current_leader_epoch: v4+
            .I64(-2)                //     timestamp (-2: earliest)
                                    //     max_num_offsets: v0 only
            .ToArray();
        var requestV5 = new Wire()
            .I32(-1)                // replica_id
            .I8(1)                  // isolation_level (read committed)
            .Arr(1)                 // topics
            .Str("orders")          //   name
            .Arr(1)                 //   partitions
            .I32(2)                 //     partition_index
            .I32(7)                 //     current_leader_epoch
            .I64(-2)                //     timestamp
            .ToArray();
        Assert.Equal(requestV1, Encode(request, 1));
        Assert.Equal(requestV5, Encode(request, 5));
        var read1 = RoundTrip(requestV1, 1, ListOffsetsRequest.Read);
        Assert.Equal((0, -1, -2L), (read1.IsolationLevel, read1.Topics[0].Partitions[0].CurrentLeaderEpoch, read1.Topics[0].Partitions[0].Timestamp));
        var read5 = RoundTrip(requestV5, 5, ListOffsetsRequest.Read);
        Assert.Equal((1, 7), (read5.IsolationLevel, read5.Topics[0].Partitions[0].CurrentLeaderEpoch));

        var response = new ListOffsetsResponse
        {
            ThrottleTimeMs = 5,
            Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 2, ErrorCode = 0, Timestamp = -1, Offset = 1234, LeaderEpoch = 7 }] }],
        };
        var responseV1 = new Wire()
                                    // throttle_time_ms: v2+
            .Arr(1)                 // topics
            .Str("orders")          //   name
            .Arr(1)                 //   partitions
            .I32(2)                 //     partition_index
            .I16(0)                 //     error_code
                                    //     old_style_offsets: v0 only
            .I64(-1)                //     timestamp
            .I64(1234)              //     offset
                                    //     leader_epoch: v4+
            .ToArray();
        var responseV5 = new Wire()
            .I32(5)                 // throttle_time_ms
            .Arr(1)                 // topics
            .Str("orders")          //   name
            .Arr(1)                 //   partitions
            .I32(2)                 //     partition_index
            .I16(0)                 //     error_code
            .I64(-1)                //     timestamp
            .I64(1234)              //     offset
            .I32(7)                 //     leader_epoch
            .ToArray();
        Assert.Equal(responseV1, Encode(response, 1));
        Assert.Equal(responseV5, Encode(response, 5));
        var partition1 = RoundTrip(responseV1, 1, ListOffsetsResponse.Read).Topics[0].Partitions[0];
        Assert.Equal((1234L, -1), (partition1.Offset, partition1.LeaderEpoch));
        var read5Response = RoundTrip(responseV5, 5, ListOffsetsResponse.Read);
        Assert.Equal((5, 1234L, 7), (read5Response.ThrottleTimeMs, read5Response.Topics[0].Partitions[0].Offset, read5Response.Topics[0].Partitions[0].LeaderEpoch));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void CreateTopics_v2_and_v4_have_one_layout(short version)
    {
        // v2 to v4 differ only in what the broker does (v4: a topic may be created by the controller later), not in bytes.
        var request = new CreateTopicsRequest
        {
            Topics =
            [
                new()
                {
                    Name = "orders", NumPartitions = 3, ReplicationFactor = 2,
                    Assignments = [new() { PartitionIndex = 0, BrokerIds = [1, 2] }],
                    Configs = [new() { Name = "cleanup.policy", Value = "delete" }, new() { Name = "retention.ms", Value = null }],
                },
            ],
            TimeoutMs = 30000, ValidateOnly = true,
        };
        var expectedRequest = new Wire()
            .Arr(1)                 // topics
            .Str("orders")          //   name
            .I32(3)                 //   num_partitions
            .I16(2)                 //   replication_factor
            .Arr(1)                 //   assignments
            .I32(0)                 //     partition_index
            .Arr(2).I32(1).I32(2)   //     broker_ids
            .Arr(2)                 //   configs
            .Str("cleanup.policy")  //     name
            .Str("delete")          //     value
            .Str("retention.ms")    //     name
            .Str(null)              //     value (nullable)
            .I32(30000)             // timeout_ms
            .Bool(true)             // validate_only (v1+)
            .ToArray();
        Assert.Equal(expectedRequest, Encode(request, version));
        var readRequest = RoundTrip(expectedRequest, version, CreateTopicsRequest.Read);
        Assert.Equal(("orders", 3, (short)2), (readRequest.Topics[0].Name, readRequest.Topics[0].NumPartitions, readRequest.Topics[0].ReplicationFactor));
        Assert.Equal([1, 2], readRequest.Topics[0].Assignments[0].BrokerIds);
        Assert.Null(readRequest.Topics[0].Configs[1].Value);
        Assert.Equal((30000, true), (readRequest.TimeoutMs, readRequest.ValidateOnly));

        var response = new CreateTopicsResponse
        {
            ThrottleTimeMs = 0,
            Topics =
            [
                new() { Name = "orders", ErrorCode = 0, ErrorMessage = null, NumPartitions = 3, ReplicationFactor = 2 },
                new() { Name = "bad", ErrorCode = 37, ErrorMessage = "Number of partitions must be larger than 0." },
            ],
        };
        var expectedResponse = new Wire()
            .I32(0)                 // throttle_time_ms (v2+)
            .Arr(2)                 // topics
            .Str("orders")          //   name
                                    //   topic_id: v7+
            .I16(0)                 //   error_code
            .Str(null)              //   error_message (v1+, nullable)
                                    //   topic_config_error_code, num_partitions, replication_factor, configs: v5+
            .Str("bad")             //   name
            .I16(37)                //   error_code (INVALID_PARTITIONS)
            .Str("Number of partitions must be larger than 0.")
            .ToArray();
        Assert.Equal(expectedResponse, Encode(response, version));
        var readResponse = RoundTrip(expectedResponse, version, CreateTopicsResponse.Read);
        Assert.Null(readResponse.Topics[0].ErrorMessage);
        Assert.Equal((37, "Number of partitions must be larger than 0."), (readResponse.Topics[1].ErrorCode, readResponse.Topics[1].ErrorMessage));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void DeleteTopics_v1_and_v3_have_one_layout(short version)
    {
        var request = new DeleteTopicsRequest { TopicNames = ["orders", "payments"], TimeoutMs = 15000 };
        var expectedRequest = new Wire()
                                    // topics (names and ids): v6+
            .Arr(2)                 // topic_names (v0-5)
            .Str("orders")
            .Str("payments")
            .I32(15000)             // timeout_ms
            .ToArray();
        Assert.Equal(expectedRequest, Encode(request, version));
        var readRequest = RoundTrip(expectedRequest, version, DeleteTopicsRequest.Read);
        Assert.Equal(["orders", "payments"], readRequest.TopicNames);
        Assert.Equal(15000, readRequest.TimeoutMs);

        var response = new DeleteTopicsResponse
        {
            ThrottleTimeMs = 0,
            Responses = [new() { Name = "orders", ErrorCode = 0 }, new() { Name = "payments", ErrorCode = 3 }],
        };
        var expectedResponse = new Wire()
            .I32(0)                 // throttle_time_ms (v1+)
            .Arr(2)                 // responses
            .Str("orders")          //   name
                                    //   topic_id: v6+
            .I16(0)                 //   error_code
                                    //   error_message: v5+
            .Str("payments")
            .I16(3)                 //   UNKNOWN_TOPIC_OR_PARTITION
            .ToArray();
        Assert.Equal(expectedResponse, Encode(response, version));
        var readResponse = RoundTrip(expectedResponse, version, DeleteTopicsResponse.Read);
        Assert.Equal(("payments", (short)3), (readResponse.Responses[1].Name, readResponse.Responses[1].ErrorCode));
    }

    [Fact]
    public void FindCoordinator_v0_and_v2()
    {
        var request = new FindCoordinatorRequest { Key = "billing", KeyType = 0 };
        var requestV0 = new Wire()
            .Str("billing")         // key
                                    // key_type: v1+
            .ToArray();
        var requestV2 = new Wire()
            .Str("billing")         // key (v0-3)
            .I8(0)                  // key_type (0: group, 1: transaction)
                                    // coordinator_keys: v4+
            .ToArray();
        Assert.Equal(requestV0, Encode(request, 0));
        Assert.Equal(requestV2, Encode(request, 2));
        Assert.Equal("billing", RoundTrip(requestV0, 0, FindCoordinatorRequest.Read).Key);
        Assert.Equal(1, RoundTrip(new Wire().Str("tx-1").I8(1).ToArray(), 2, FindCoordinatorRequest.Read).KeyType);

        var response = new FindCoordinatorResponse { ThrottleTimeMs = 0, ErrorCode = 0, ErrorMessage = null, NodeId = 2, Host = "localhost", Port = 19092 };
        var responseV0 = new Wire()
                                    // throttle_time_ms: v1+
            .I16(0)                 // error_code
                                    // error_message: v1+
            .I32(2)                 // node_id
            .Str("localhost")       // host
            .I32(19092)             // port
            .ToArray();
        var responseV2 = new Wire()
            .I32(0)                 // throttle_time_ms
            .I16(0)                 // error_code
            .Str(null)              // error_message (nullable)
            .I32(2)                 // node_id
            .Str("localhost")       // host
            .I32(19092)             // port
                                    // coordinators: v4+
            .ToArray();
        Assert.Equal(responseV0, Encode(response, 0));
        Assert.Equal(responseV2, Encode(response, 2));
        var read0 = RoundTrip(responseV0, 0, FindCoordinatorResponse.Read);
        Assert.Equal((2, "localhost", 19092), (read0.NodeId, read0.Host, read0.Port));
        var notAvailable = new Wire().I32(0).I16(15).Str("transactions are not supported").I32(-1).Str("").I32(-1).ToArray();
        var read2 = RoundTrip(notAvailable, 2, FindCoordinatorResponse.Read);
        Assert.Equal((15, "transactions are not supported", -1), (read2.ErrorCode, read2.ErrorMessage, read2.NodeId));
    }

    [Fact]
    public void OffsetCommit_v2_and_v7()
    {
        var request = new OffsetCommitRequest
        {
            GroupId = "billing", GenerationIdOrMemberEpoch = 4, MemberId = "m-1", GroupInstanceId = "pod-1", RetentionTimeMs = -1,
            Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 2, CommittedOffset = 100, CommittedLeaderEpoch = 7, CommittedMetadata = null }] }],
        };
        var requestV2 = new Wire()
            .Str("billing")         // group_id
            .I32(4)                 // generation_id_or_member_epoch (v1+)
            .Str("m-1")             // member_id (v1+)
                                    // group_instance_id: v7+
            .I64(-1)                // retention_time_ms (v2-4; -1: the broker's retention)
            .Arr(1)                 // topics
            .Str("orders")          //   name
            .Arr(1)                 //   partitions
            .I32(2)                 //     partition_index
            .I64(100)               //     committed_offset
                                    //     committed_leader_epoch: v6+; commit_timestamp: v1 only
            .Str(null)              //     committed_metadata (nullable)
            .ToArray();
        var requestV7 = new Wire()
            .Str("billing")         // group_id
            .I32(4)                 // generation_id_or_member_epoch
            .Str("m-1")             // member_id
            .Str("pod-1")           // group_instance_id (nullable)
                                    // retention_time_ms: v2-4
            .Arr(1)                 // topics
            .Str("orders")          //   name
            .Arr(1)                 //   partitions
            .I32(2)                 //     partition_index
            .I64(100)               //     committed_offset
            .I32(7)                 //     committed_leader_epoch
            .Str(null)              //     committed_metadata
            .ToArray();
        Assert.Equal(requestV2, Encode(request, 2));
        Assert.Equal(requestV7, Encode(request, 7));
        var read2 = RoundTrip(requestV2, 2, OffsetCommitRequest.Read);
        Assert.Equal((4, "m-1", (string?)null, -1L), (read2.GenerationIdOrMemberEpoch, read2.MemberId, read2.GroupInstanceId, read2.RetentionTimeMs));
        Assert.Equal((100L, -1), (read2.Topics[0].Partitions[0].CommittedOffset, read2.Topics[0].Partitions[0].CommittedLeaderEpoch));
        var read7 = RoundTrip(requestV7, 7, OffsetCommitRequest.Read);
        Assert.Equal(("pod-1", 7), (read7.GroupInstanceId, read7.Topics[0].Partitions[0].CommittedLeaderEpoch));

        var response = new OffsetCommitResponse
        {
            ThrottleTimeMs = 0,
            Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 2, ErrorCode = 0 }, new() { PartitionIndex = 3, ErrorCode = 22 }] }],
        };
        var partitions = new Wire()
            .Arr(1)                 // topics
            .Str("orders")          //   name
            .Arr(2)                 //   partitions
            .I32(2).I16(0)          //     partition_index, error_code
            .I32(3).I16(22)         //     ILLEGAL_GENERATION
            .ToArray();
        var responseV2 = partitions;                                    // throttle_time_ms: v3+
        var responseV7 = new Wire().I32(0).Raw(partitions).ToArray();   // throttle_time_ms, then the same topics
        Assert.Equal(responseV2, Encode(response, 2));
        Assert.Equal(responseV7, Encode(response, 7));
        Assert.Equal(22, RoundTrip(responseV2, 2, OffsetCommitResponse.Read).Topics[0].Partitions[1].ErrorCode);
        Assert.Equal(22, RoundTrip(responseV7, 7, OffsetCommitResponse.Read).Topics[0].Partitions[1].ErrorCode);
    }

    [Fact]
    public void OffsetFetch_v1_and_v5()
    {
        var request = new OffsetFetchRequest { GroupId = "billing", Topics = [new() { Name = "orders", PartitionIndexes = [0, 2] }] };
        var requestV1 = new Wire()
            .Str("billing")         // group_id (v0-7)
            .Arr(1)                 // topics (v0-7; nullable from v2)
            .Str("orders")          //   name
            .Arr(2).I32(0).I32(2)   //   partition_indexes
                                    // groups: v8+; require_stable: v7+
            .ToArray();
        Assert.Equal(requestV1, Encode(request, 1));
        Assert.Equal(requestV1, Encode(request, 5));
        Assert.Equal([0, 2], RoundTrip(requestV1, 1, OffsetFetchRequest.Read).Topics![0].PartitionIndexes);
        var allTopicsV5 = new Wire()
            .Str("billing")         // group_id
            .Arr(-1)                // topics: null asks for every committed offset of the group (v2+)
            .ToArray();
        Assert.Equal(allTopicsV5, Encode(new OffsetFetchRequest { GroupId = "billing", Topics = null }, 5));
        Assert.Null(RoundTrip(allTopicsV5, 5, OffsetFetchRequest.Read).Topics);

        var response = new OffsetFetchResponse
        {
            ThrottleTimeMs = 0, ErrorCode = 0,
            Topics =
            [
                new()
                {
                    Name = "orders",
                    Partitions =
                    [
                        new() { PartitionIndex = 0, CommittedOffset = 100, CommittedLeaderEpoch = 7, Metadata = "", ErrorCode = 0 },
                        new() { PartitionIndex = 2, CommittedOffset = -1, CommittedLeaderEpoch = -1, Metadata = null, ErrorCode = 0 },
                    ],
                },
            ],
        };
        var responseV1 = new Wire()
                                    // throttle_time_ms: v3+
            .Arr(1)                 // topics (v0-7)
            .Str("orders")          //   name
            .Arr(2)                 //   partitions
            .I32(0)                 //     partition_index
            .I64(100)               //     committed_offset
                                    //     committed_leader_epoch: v5-7
            .Str("")                //     metadata (nullable)
            .I16(0)                 //     error_code
            .I32(2).I64(-1).Str(null).I16(0)
                                    // error_code: v2-7; groups: v8+
            .ToArray();
        var responseV5 = new Wire()
            .I32(0)                 // throttle_time_ms
            .Arr(1)                 // topics
            .Str("orders")          //   name
            .Arr(2)                 //   partitions
            .I32(0)                 //     partition_index
            .I64(100)               //     committed_offset
            .I32(7)                 //     committed_leader_epoch
            .Str("")                //     metadata
            .I16(0)                 //     error_code
            .I32(2).I64(-1).I32(-1).Str(null).I16(0)
            .I16(0)                 // error_code (the group's)
            .ToArray();
        Assert.Equal(responseV1, Encode(response, 1));
        Assert.Equal(responseV5, Encode(response, 5));
        var read1 = RoundTrip(responseV1, 1, OffsetFetchResponse.Read).Topics[0].Partitions;
        Assert.Equal((100L, -1, ""), (read1[0].CommittedOffset, read1[0].CommittedLeaderEpoch, read1[0].Metadata));
        Assert.Null(read1[1].Metadata);
        var read5 = RoundTrip(responseV5, 5, OffsetFetchResponse.Read);
        Assert.Equal((7, -1L), (read5.Topics[0].Partitions[0].CommittedLeaderEpoch, read5.Topics[0].Partitions[1].CommittedOffset));
        var coordinatorLoading = new Wire().I32(0).Arr(0).I16(14).ToArray();
        Assert.Equal(14, RoundTrip(coordinatorLoading, 5, OffsetFetchResponse.Read).ErrorCode);
    }

    [Fact]
    public void SyncGroup_v0_and_v3()
    {
        byte[] assignment = [0, 1, 0, 0, 0, 1, 0, 6, (byte)'o', (byte)'r', (byte)'d', (byte)'e', (byte)'r', (byte)'s', 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0];
        var request = new SyncGroupRequest
        {
            GroupId = "billing", GenerationId = 3, MemberId = "m-1", GroupInstanceId = null,
            Assignments = [new() { MemberId = "m-1", Assignment = assignment }, new() { MemberId = "m-2", Assignment = [] }],
        };
        var requestV0 = new Wire()
            .Str("billing")         // group_id
            .I32(3)                 // generation_id
            .Str("m-1")             // member_id
                                    // group_instance_id: v3+; protocol_type, protocol_name: v5+
            .Arr(2)                 // assignments (the leader's)
            .Str("m-1")             //   member_id
            .I32(assignment.Length).Raw(assignment) // assignment (ConsumerProtocolAssignment v1: orders[2], no user data)
            .Str("m-2")
            .I32(0)
            .ToArray();
        var requestV3 = new Wire()
            .Str("billing")         // group_id
            .I32(3)                 // generation_id
            .Str("m-1")             // member_id
            .Str(null)              // group_instance_id (nullable)
            .Arr(2)                 // assignments
            .Str("m-1").I32(assignment.Length).Raw(assignment)
            .Str("m-2").I32(0)
            .ToArray();
        Assert.Equal(requestV0, Encode(request, 0));
        Assert.Equal(requestV3, Encode(request, 3));
        Assert.Equal(assignment, RoundTrip(requestV0, 0, SyncGroupRequest.Read).Assignments[0].Assignment);
        var read3 = RoundTrip(requestV3, 3, SyncGroupRequest.Read);
        Assert.Null(read3.GroupInstanceId);
        Assert.Empty(read3.Assignments[1].Assignment);

        var response = new SyncGroupResponse { ThrottleTimeMs = 0, ErrorCode = 0, Assignment = assignment };
        var responseV0 = new Wire()
                                    // throttle_time_ms: v1+
            .I16(0)                 // error_code
                                    // protocol_type, protocol_name: v5+
            .I32(assignment.Length).Raw(assignment) // assignment
            .ToArray();
        var responseV3 = new Wire()
            .I32(0)                 // throttle_time_ms
            .I16(0)                 // error_code
            .I32(assignment.Length).Raw(assignment)
            .ToArray();
        Assert.Equal(responseV0, Encode(response, 0));
        Assert.Equal(responseV3, Encode(response, 3));
        Assert.Equal(assignment, RoundTrip(responseV0, 0, SyncGroupResponse.Read).Assignment);
        var rebalancing = new Wire().I32(0).I16(27).I32(0).ToArray();
        Assert.Equal(27, RoundTrip(rebalancing, 3, SyncGroupResponse.Read).ErrorCode);
    }

    [Fact]
    public void Heartbeat_v0_and_v3()
    {
        var request = new HeartbeatRequest { GroupId = "billing", GenerationId = 3, MemberId = "m-1", GroupInstanceId = "pod-1" };
        var requestV0 = new Wire()
            .Str("billing")         // group_id
            .I32(3)                 // generation_id
            .Str("m-1")             // member_id
                                    // group_instance_id: v3+
            .ToArray();
        var requestV3 = new Wire().Raw(requestV0)
            .Str("pod-1")           // group_instance_id (nullable)
            .ToArray();
        Assert.Equal(requestV0, Encode(request, 0));
        Assert.Equal(requestV3, Encode(request, 3));
        var read0 = RoundTrip(requestV0, 0, HeartbeatRequest.Read);
        Assert.Equal(("billing", 3, "m-1", (string?)null), (read0.GroupId, read0.GenerationId, read0.MemberId, read0.GroupInstanceId));
        Assert.Equal("pod-1", RoundTrip(requestV3, 3, HeartbeatRequest.Read).GroupInstanceId);

        var response = new HeartbeatResponse { ThrottleTimeMs = 0, ErrorCode = 27 };
        var responseV0 = new Wire()
                                    // throttle_time_ms: v1+
            .I16(27)                // error_code (REBALANCE_IN_PROGRESS)
            .ToArray();
        var responseV3 = new Wire()
            .I32(0)                 // throttle_time_ms
            .I16(27)                // error_code
            .ToArray();
        Assert.Equal(responseV0, Encode(response, 0));
        Assert.Equal(responseV3, Encode(response, 3));
        Assert.Equal(27, RoundTrip(responseV0, 0, HeartbeatResponse.Read).ErrorCode);
        Assert.Equal(27, RoundTrip(responseV3, 3, HeartbeatResponse.Read).ErrorCode);
    }

    [Fact]
    public void LeaveGroup_v0_has_one_member_and_v3_a_batch()
    {
        var requestV0 = new Wire()
            .Str("billing")         // group_id
            .Str("m-1")             // member_id (v0-2)
            .ToArray();
        Assert.Equal(requestV0, Encode(new LeaveGroupRequest { GroupId = "billing", MemberId = "m-1" }, 0));
        Assert.Equal("m-1", RoundTrip(requestV0, 0, LeaveGroupRequest.Read).MemberId);
        var requestV3 = new Wire()
            .Str("billing")         // group_id
                                    // member_id: v0-2
            .Arr(2)                 // members (v3+)
            .Str("m-1")             //   member_id
            .Str(null)              //   group_instance_id (nullable)
                                    //   reason: v5+
            .Str("")                //   member_id (static members leave by instance id)
            .Str("pod-2")
            .ToArray();
        var request = new LeaveGroupRequest { GroupId = "billing", Members = [new() { MemberId = "m-1" }, new() { MemberId = "", GroupInstanceId = "pod-2" }] };
        Assert.Equal(requestV3, Encode(request, 3));
        var read3 = RoundTrip(requestV3, 3, LeaveGroupRequest.Read);
        Assert.Equal(("m-1", (string?)null, "pod-2"), (read3.Members[0].MemberId, read3.Members[0].GroupInstanceId, read3.Members[1].GroupInstanceId));

        var response = new LeaveGroupResponse
        {
            ThrottleTimeMs = 0, ErrorCode = 0,
            Members = [new() { MemberId = "m-1", GroupInstanceId = null, ErrorCode = 0 }, new() { MemberId = "", GroupInstanceId = "pod-2", ErrorCode = 25 }],
        };
        var responseV0 = new Wire()
                                    // throttle_time_ms: v1+
            .I16(0)                 // error_code
                                    // members: v3+
            .ToArray();
        var responseV3 = new Wire()
            .I32(0)                 // throttle_time_ms
            .I16(0)                 // error_code
            .Arr(2)                 // members
            .Str("m-1")             //   member_id
            .Str(null)              //   group_instance_id (nullable)
            .I16(0)                 //   error_code
            .Str("").Str("pod-2").I16(25) // UNKNOWN_MEMBER_ID
            .ToArray();
        Assert.Equal(responseV0, Encode(response, 0));
        Assert.Equal(responseV3, Encode(response, 3));
        Assert.Equal(0, RoundTrip(responseV0, 0, LeaveGroupResponse.Read).ErrorCode);
        var member = RoundTrip(responseV3, 3, LeaveGroupResponse.Read).Members[1];
        Assert.Equal(("pod-2", (short)25), (member.GroupInstanceId, member.ErrorCode));
    }

    [Fact]
    public void DescribeGroups_v0_and_v4()
    {
        var request = new DescribeGroupsRequest { Groups = ["billing", "audit"], IncludeAuthorizedOperations = true };
        var requestV0 = new Wire()
            .Arr(2).Str("billing").Str("audit") // groups
                                                // include_authorized_operations: v3+
            .ToArray();
        var requestV4 = new Wire().Raw(requestV0)
            .Bool(true)                         // include_authorized_operations
            .ToArray();
        Assert.Equal(requestV0, Encode(request, 0));
        Assert.Equal(requestV4, Encode(request, 4));
        Assert.Equal(["billing", "audit"], RoundTrip(requestV0, 0, DescribeGroupsRequest.Read).Groups);
        Assert.True(RoundTrip(requestV4, 4, DescribeGroupsRequest.Read).IncludeAuthorizedOperations);

        byte[] metadata = [0, 1, 0, 0, 0, 0, 255, 255, 255, 255];
        byte[] assignment = [0, 1, 0, 0, 0, 0, 255, 255, 255, 255];
        var response = new DescribeGroupsResponse
        {
            ThrottleTimeMs = 0,
            Groups =
            [
                new()
                {
                    ErrorCode = 0, GroupId = "billing", GroupState = "Stable", ProtocolType = "consumer", ProtocolData = "range",
                    Members = [new() { MemberId = "m-1", GroupInstanceId = "pod-1", ClientId = "rdkafka", ClientHost = "/127.0.0.1", MemberMetadata = metadata, MemberAssignment = assignment }],
                    AuthorizedOperations = int.MinValue,
                },
            ],
        };
        var responseV0 = new Wire()
                                    // throttle_time_ms: v1+
            .Arr(1)                 // groups
            .I16(0)                 //   error_code
            .Str("billing")         //   group_id
            .Str("Stable")          //   group_state
            .Str("consumer")        //   protocol_type
            .Str("range")           //   protocol_data
            .Arr(1)                 //   members
            .Str("m-1")             //     member_id
                                    //     group_instance_id: v4+
            .Str("rdkafka")         //     client_id
            .Str("/127.0.0.1")      //     client_host
            .I32(metadata.Length).Raw(metadata)     // member_metadata
            .I32(assignment.Length).Raw(assignment) // member_assignment
                                    //   authorized_operations: v3+
            .ToArray();
        var responseV4 = new Wire()
            .I32(0)                 // throttle_time_ms
            .Arr(1)                 // groups
            .I16(0)                 //   error_code
            .Str("billing")         //   group_id
            .Str("Stable")          //   group_state
            .Str("consumer")        //   protocol_type
            .Str("range")           //   protocol_data
            .Arr(1)                 //   members
            .Str("m-1")             //     member_id
            .Str("pod-1")           //     group_instance_id (nullable)
            .Str("rdkafka")         //     client_id
            .Str("/127.0.0.1")      //     client_host
            .I32(metadata.Length).Raw(metadata)
            .I32(assignment.Length).Raw(assignment)
            .I32(int.MinValue)      //   authorized_operations (not asked for: INT32_MIN)
            .ToArray();
        Assert.Equal(responseV0, Encode(response, 0));
        Assert.Equal(responseV4, Encode(response, 4));
        var group0 = RoundTrip(responseV0, 0, DescribeGroupsResponse.Read).Groups[0];
        Assert.Equal(("Stable", "range", "rdkafka", (string?)null), (group0.GroupState, group0.ProtocolData, group0.Members[0].ClientId, group0.Members[0].GroupInstanceId));
        Assert.Equal(assignment, group0.Members[0].MemberAssignment);
        var group4 = RoundTrip(responseV4, 4, DescribeGroupsResponse.Read).Groups[0];
        Assert.Equal(("pod-1", int.MinValue), (group4.Members[0].GroupInstanceId, group4.AuthorizedOperations));
    }

    [Fact]
    public void ListGroups_v0_and_v2()
    {
        // The request has no fields before v4 (states_filter): an empty body at v0 and v2.
        Assert.Empty(Encode(new ListGroupsRequest(), 0));
        Assert.Empty(Encode(new ListGroupsRequest(), 2));
        Assert.Empty(RoundTrip([], 0, ListGroupsRequest.Read).StatesFilter);
        RoundTrip([], 2, ListGroupsRequest.Read);

        var response = new ListGroupsResponse
        {
            ThrottleTimeMs = 0, ErrorCode = 0,
            Groups = [new() { GroupId = "billing", ProtocolType = "consumer" }, new() { GroupId = "connect-1", ProtocolType = "connect" }],
        };
        var groups = new Wire()
            .I16(0)                 // error_code
            .Arr(2)                 // groups
            .Str("billing")         //   group_id
            .Str("consumer")        //   protocol_type
                                    //   group_state: v4+; group_type: v5+
            .Str("connect-1").Str("connect")
            .ToArray();
        var responseV0 = groups;                                    // throttle_time_ms: v1+
        var responseV2 = new Wire().I32(0).Raw(groups).ToArray();   // throttle_time_ms, then the same
        Assert.Equal(responseV0, Encode(response, 0));
        Assert.Equal(responseV2, Encode(response, 2));
        Assert.Equal("connect", RoundTrip(responseV0, 0, ListGroupsResponse.Read).Groups[1].ProtocolType);
        Assert.Equal("billing", RoundTrip(responseV2, 2, ListGroupsResponse.Read).Groups[0].GroupId);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void SaslHandshake_v0_and_v1_have_one_layout(short version)
    {
        // v1 only changes what follows (SaslAuthenticate frames instead of raw tokens).
        var expectedRequest = new Wire().Str("PLAIN").ToArray(); // mechanism
        Assert.Equal(expectedRequest, Encode(new SaslHandshakeRequest { Mechanism = "PLAIN" }, version));
        Assert.Equal("PLAIN", RoundTrip(expectedRequest, version, SaslHandshakeRequest.Read).Mechanism);

        var response = new SaslHandshakeResponse { ErrorCode = 33, Mechanisms = [] };
        var expectedResponse = new Wire()
            .I16(33)                // error_code (UNSUPPORTED_SASL_MECHANISM)
            .Arr(0)                 // mechanisms (enabled ones: none yet)
            .ToArray();
        Assert.Equal(expectedResponse, Encode(response, version));
        Assert.Equal(33, RoundTrip(expectedResponse, version, SaslHandshakeResponse.Read).ErrorCode);
        var withMechanisms = new Wire().I16(0).Arr(2).Str("PLAIN").Str("SCRAM-SHA-256").ToArray();
        Assert.Equal(["PLAIN", "SCRAM-SHA-256"], RoundTrip(withMechanisms, version, SaslHandshakeResponse.Read).Mechanisms);
    }

    [Fact]
    public void SaslAuthenticate_v0_and_v1()
    {
        byte[] token = [0, (byte)'u', 0, (byte)'p'];
        var expectedRequest = new Wire().I32(token.Length).Raw(token).ToArray(); // auth_bytes
        Assert.Equal(expectedRequest, Encode(new SaslAuthenticateRequest { AuthBytes = token }, 0));
        Assert.Equal(expectedRequest, Encode(new SaslAuthenticateRequest { AuthBytes = token }, 1));
        Assert.Equal(token, RoundTrip(expectedRequest, 0, SaslAuthenticateRequest.Read).AuthBytes);
        Assert.Equal(token, RoundTrip(expectedRequest, 1, SaslAuthenticateRequest.Read).AuthBytes);

        var response = new SaslAuthenticateResponse { ErrorCode = 58, ErrorMessage = "no SASL", AuthBytes = [], SessionLifetimeMs = 0 };
        var responseV0 = new Wire()
            .I16(58)                // error_code (SASL_AUTHENTICATION_FAILED)
            .Str("no SASL")         // error_message (nullable)
            .I32(0)                 // auth_bytes (empty)
                                    // session_lifetime_ms: v1+
            .ToArray();
        var responseV1 = new Wire().Raw(responseV0)
            .I64(0)                 // session_lifetime_ms (0: no re-authentication)
            .ToArray();
        Assert.Equal(responseV0, Encode(response, 0));
        Assert.Equal(responseV1, Encode(response, 1));
        Assert.Equal("no SASL", RoundTrip(responseV0, 0, SaslAuthenticateResponse.Read).ErrorMessage);
        var authenticated = new Wire().I16(0).Str(null).I32(0).I64(3_600_000).ToArray();
        var read1 = RoundTrip(authenticated, 1, SaslAuthenticateResponse.Read);
        Assert.Equal(((string?)null, 3_600_000L), (read1.ErrorMessage, read1.SessionLifetimeMs));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void InitProducerId_v0_and_v1_have_one_layout(short version)
    {
        // v1 only lets the broker answer a quota violation with throttle_time_ms; producer_id/epoch on the request are v3+.
        var idempotent = new Wire()
            .Str(null)              // transactional_id (nullable: null for an idempotent producer)
            .I32(60000)             // transaction_timeout_ms
            .ToArray();
        Assert.Equal(idempotent, Encode(new InitProducerIdRequest { TransactionalId = null, TransactionTimeoutMs = 60000, ProducerId = 5, ProducerEpoch = 1 }, version));
        var read = RoundTrip(idempotent, version, InitProducerIdRequest.Read);
        Assert.Equal(((string?)null, 60000, -1L, (short)-1), (read.TransactionalId, read.TransactionTimeoutMs, read.ProducerId, read.ProducerEpoch));
        var transactional = new Wire().Str("tx-1").I32(60000).ToArray();
        Assert.Equal("tx-1", RoundTrip(transactional, version, InitProducerIdRequest.Read).TransactionalId);

        var response = new InitProducerIdResponse { ThrottleTimeMs = 0, ErrorCode = 0, ProducerId = 4000, ProducerEpoch = 0 };
        var expectedResponse = new Wire()
            .I32(0)                 // throttle_time_ms
            .I16(0)                 // error_code
            .I64(4000)              // producer_id
            .I16(0)                 // producer_epoch
            .ToArray();
        Assert.Equal(expectedResponse, Encode(response, version));
        var readResponse = RoundTrip(expectedResponse, version, InitProducerIdResponse.Read);
        Assert.Equal((4000L, (short)0), (readResponse.ProducerId, readResponse.ProducerEpoch));
        var refused = new Wire().I32(0).I16(15).I64(-1).I16(-1).ToArray();
        var readRefused = RoundTrip(refused, version, InitProducerIdResponse.Read);
        Assert.Equal((15, -1L), (readRefused.ErrorCode, readRefused.ProducerId));
    }
}
