using Broker.Kafka.Messages;
using Xunit;
using static Broker.Kafka.Tests.Messages.Codec;

namespace Broker.Kafka.Tests.Messages;

/// <summary>
/// The highest version the listener advertises for each API it serves (Kafka 4.x's, issue 15), request and response,
/// against bytes written out field by field from Kafka's JSON schema, as <see cref="AdvertisedVersionEncodingTests"/>
/// does for the lowest ones (which did not change). All of these are flexible versions: compact strings and arrays
/// (length + 1 as an unsigned varint) and a tagged-field section closing every struct.
/// </summary>
public sealed class NewestVersionEncodingTests
{
    private static readonly Guid TopicId = Guid.Parse("0b1c2d3e-4f50-6172-8394-a5b6c7d8e9fa");

    [Fact]
    public void Produce_v11()
    {
        byte[] batch = [1, 2, 3, 4];
        var request = new ProduceRequest
        {
            TransactionalId = null, Acks = -1, TimeoutMs = 30000,
            TopicData = [new() { Name = "orders", PartitionData = [new() { Index = 1, Records = batch }] }],
        };
        var expectedRequest = new Wire()
            .CStr(null)             // transactional_id
            .I16(-1)                // acks
            .I32(30000)             // timeout_ms
            .CArr(1)                // topic_data
            .CStr("orders")         //   name
            .CArr(1)                //   partition_data
            .I32(1)                 //     index
            .CBytes(batch)          //     records
            .NoTags()               //   (partition)
            .NoTags()               // (topic)
            .NoTags()
            .ToArray();
        Assert.Equal(expectedRequest, Encode(request, 11));
        var read = RoundTrip(expectedRequest, 11, ProduceRequest.Read);
        Assert.Equal(batch, read.TopicData[0].PartitionData[0].Records.ToArray());

        var response = new ProduceResponse
        {
            Responses = [new() { Name = "orders", PartitionResponses = [new() { Index = 1, ErrorCode = 0, BaseOffset = 42, LogAppendTimeMs = -1, LogStartOffset = 0 }] }],
            ThrottleTimeMs = 0,
        };
        var expectedResponse = new Wire()
            .CArr(1)                // responses
            .CStr("orders")         //   name
            .CArr(1)                //   partition_responses
            .I32(1)                 //     index
            .I16(0)                 //     error_code
            .I64(42)                //     base_offset
            .I64(-1)                //     log_append_time_ms
            .I64(0)                 //     log_start_offset
            .CArr(0)                //     record_errors
            .CStr(null)             //     error_message
            .NoTags()               //     (current_leader, tag 0, left out at its default)
            .NoTags()
            .I32(0)                 // throttle_time_ms
            .NoTags()               // (node_endpoints, tag 0, left out when empty)
            .ToArray();
        Assert.Equal(expectedResponse, Encode(response, 11));
        Assert.Equal(42, RoundTrip(expectedResponse, 11, ProduceResponse.Read).Responses[0].PartitionResponses[0].BaseOffset);
    }

    [Fact]
    public void Fetch_v17_names_topics_by_id()
    {
        var request = new FetchRequest
        {
            MaxWaitMs = 500, MinBytes = 1, MaxBytes = 1 << 20, IsolationLevel = 0, SessionId = 0, SessionEpoch = -1,
            Topics = [new() { TopicId = TopicId, Partitions = [new() { Partition = 2, CurrentLeaderEpoch = 5, FetchOffset = 100, LastFetchedEpoch = -1, LogStartOffset = -1, PartitionMaxBytes = 65536 }] }],
            ForgottenTopicsData = [],
            RackId = "rack-a",
        };
        var expectedRequest = new Wire()
                                    // cluster_id (tag 0), replica_state (tag 1): tagged, left out
                                    // replica_id: v0-14 only
            .I32(500)               // max_wait_ms
            .I32(1)                 // min_bytes
            .I32(1 << 20)           // max_bytes
            .I8(0)                  // isolation_level
            .I32(0)                 // session_id
            .I32(-1)                // session_epoch
            .CArr(1)                // topics
            .Uuid(TopicId)          //   topic_id (the name is v0-12 only)
            .CArr(1)                //   partitions
            .I32(2)                 //     partition
            .I32(5)                 //     current_leader_epoch
            .I64(100)               //     fetch_offset
            .I32(-1)                //     last_fetched_epoch
            .I64(-1)                //     log_start_offset
            .I32(65536)             //     partition_max_bytes
            .NoTags()               //     (replica_directory_id, tag 0)
            .NoTags()
            .CArr(0)                // forgotten_topics_data
            .CStr("rack-a")         // rack_id
            .NoTags()
            .ToArray();
        Assert.Equal(expectedRequest, Encode(request, 17));
        var read = RoundTrip(expectedRequest, 17, FetchRequest.Read);
        Assert.Equal((TopicId, 100L), (read.Topics[0].TopicId, read.Topics[0].Partitions[0].FetchOffset));

        byte[] batch = [9, 8, 7];
        var response = new FetchResponse
        {
            ThrottleTimeMs = 0, ErrorCode = 0, SessionId = 0,
            Responses = [new() { TopicId = TopicId, Partitions = [new() { PartitionIndex = 2, ErrorCode = 0, HighWatermark = 103, LastStableOffset = 103, LogStartOffset = 0, AbortedTransactions = null, PreferredReadReplica = -1, Records = batch }] }],
        };
        var expectedResponse = new Wire()
            .I32(0)                 // throttle_time_ms
            .I16(0)                 // error_code
            .I32(0)                 // session_id (0: no fetch session)
            .CArr(1)                // responses
            .Uuid(TopicId)          //   topic_id
            .CArr(1)                //   partitions
            .I32(2)                 //     partition_index
            .I16(0)                 //     error_code
            .I64(103)               //     high_watermark
            .I64(103)               //     last_stable_offset
            .I64(0)                 //     log_start_offset
            .UVarint(0)             //     aborted_transactions (null)
            .I32(-1)                //     preferred_read_replica
            .CBytes(batch)          //     records
            .NoTags()               //     (diverging_epoch, current_leader, snapshot_id: tags 0-2, at their defaults)
            .NoTags()
            .NoTags()               // (node_endpoints, tag 0)
            .ToArray();
        Assert.Equal(expectedResponse, Encode(response, 17));
        var readResponse = RoundTrip(expectedResponse, 17, FetchResponse.Read);
        Assert.Equal(batch, readResponse.Responses[0].Partitions[0].Records.ToArray());
    }

    [Fact]
    public void ListOffsets_v10()
    {
        var request = new ListOffsetsRequest
        {
            ReplicaId = -1, IsolationLevel = 0,
            Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 0, CurrentLeaderEpoch = 3, Timestamp = -3 }] }],
            TimeoutMs = 5000,
        };
        var expectedRequest = new Wire()
            .I32(-1)                // replica_id
            .I8(0)                  // isolation_level
            .CArr(1)                // topics
            .CStr("orders")         //   name
            .CArr(1)                //   partitions
            .I32(0)                 //     partition_index
            .I32(3)                 //     current_leader_epoch
            .I64(-3)                //     timestamp (-3: the largest timestamp, v7+)
            .NoTags()
            .NoTags()
            .I32(5000)              // timeout_ms (v10+)
            .NoTags()
            .ToArray();
        Assert.Equal(expectedRequest, Encode(request, 10));
        Assert.Equal((-3L, 5000), (RoundTrip(expectedRequest, 10, ListOffsetsRequest.Read).Topics[0].Partitions[0].Timestamp, RoundTrip(expectedRequest, 10, ListOffsetsRequest.Read).TimeoutMs));

        var response = new ListOffsetsResponse
        {
            ThrottleTimeMs = 0,
            Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 0, ErrorCode = 0, Timestamp = 1700000000000, Offset = 17, LeaderEpoch = -1 }] }],
        };
        var expectedResponse = new Wire()
            .I32(0)                 // throttle_time_ms
            .CArr(1)                // topics
            .CStr("orders")         //   name
            .CArr(1)                //   partitions
            .I32(0)                 //     partition_index
            .I16(0)                 //     error_code
            .I64(1700000000000)     //     timestamp
            .I64(17)                //     offset
            .I32(-1)                //     leader_epoch
            .NoTags()
            .NoTags()
            .NoTags()
            .ToArray();
        Assert.Equal(expectedResponse, Encode(response, 10));
        Assert.Equal(17, RoundTrip(expectedResponse, 10, ListOffsetsResponse.Read).Topics[0].Partitions[0].Offset);
    }

    [Fact]
    public void Metadata_v12_may_name_a_topic_by_id_alone()
    {
        var request = new MetadataRequest
        {
            Topics = [new() { TopicId = TopicId, Name = null }, new() { TopicId = Guid.Empty, Name = "orders" }],
            AllowAutoTopicCreation = false, IncludeTopicAuthorizedOperations = false,
        };
        var expectedRequest = new Wire()
            .CArr(2)                // topics (nullable: null is every topic)
            .Uuid(TopicId)          //   topic_id
            .CStr(null)             //   name (nullable from v12)
            .NoTags()
            .Uuid(Guid.Empty)       //   topic_id (zero: by name)
            .CStr("orders")         //   name
            .NoTags()
            .Bool(false)            // allow_auto_topic_creation
                                    // include_cluster_authorized_operations: v8-10 only
            .Bool(false)            // include_topic_authorized_operations
            .NoTags()
            .ToArray();
        Assert.Equal(expectedRequest, Encode(request, 12));
        var read = RoundTrip(expectedRequest, 12, MetadataRequest.Read);
        Assert.Equal((TopicId, (string?)null), (read.Topics![0].TopicId, read.Topics[0].Name));

        var response = new MetadataResponse
        {
            ThrottleTimeMs = 0,
            Brokers = [new() { NodeId = 1, Host = "127.0.0.1", Port = 9092, Rack = null }],
            ClusterId = "broker", ControllerId = 1,
            Topics =
            [
                new()
                {
                    ErrorCode = 0, Name = "orders", TopicId = TopicId, IsInternal = false,
                    Partitions = [new() { ErrorCode = 0, PartitionIndex = 0, LeaderId = 1, LeaderEpoch = 4, ReplicaNodes = [1], IsrNodes = [1], OfflineReplicas = [] }],
                },
            ],
        };
        var expectedResponse = new Wire()
            .I32(0)                 // throttle_time_ms
            .CArr(1)                // brokers
            .I32(1)                 //   node_id
            .CStr("127.0.0.1")      //   host
            .I32(9092)              //   port
            .CStr(null)             //   rack
            .NoTags()
            .CStr("broker")         // cluster_id
            .I32(1)                 // controller_id
            .CArr(1)                // topics
            .I16(0)                 //   error_code
            .CStr("orders")         //   name
            .Uuid(TopicId)          //   topic_id
            .Bool(false)            //   is_internal
            .CArr(1)                //   partitions
            .I16(0)                 //     error_code
            .I32(0)                 //     partition_index
            .I32(1)                 //     leader_id
            .I32(4)                 //     leader_epoch
            .CArr(1).I32(1)         //     replica_nodes
            .CArr(1).I32(1)         //     isr_nodes
            .CArr(0)                //     offline_replicas
            .NoTags()
            .I32(int.MinValue)      //   topic_authorized_operations (not asked: Kafka's "unknown")
            .NoTags()
                                    // cluster_authorized_operations: v8-10 only
            .NoTags()
            .ToArray();
        Assert.Equal(expectedResponse, Encode(response, 12));
        Assert.Equal(TopicId, RoundTrip(expectedResponse, 12, MetadataResponse.Read).Topics[0].TopicId);
    }

    [Fact]
    public void CreateTopics_v7_answers_the_topic_id_partitions_and_configs()
    {
        var request = new CreateTopicsRequest
        {
            Topics = [new() { Name = "orders", NumPartitions = 3, ReplicationFactor = -1, Assignments = [], Configs = [new() { Name = "retention.ms", Value = "1000" }] }],
            TimeoutMs = 30000, ValidateOnly = false,
        };
        var expectedRequest = new Wire()
            .CArr(1)                // topics
            .CStr("orders")         //   name
            .I32(3)                 //   num_partitions
            .I16(-1)                //   replication_factor (-1: the broker's default, KIP-464)
            .CArr(0)                //   assignments
            .CArr(1)                //   configs
            .CStr("retention.ms")   //     name
            .CStr("1000")           //     value
            .NoTags()
            .NoTags()
            .I32(30000)             // timeout_ms
            .Bool(false)            // validate_only
            .NoTags()
            .ToArray();
        Assert.Equal(expectedRequest, Encode(request, 7));
        Assert.Equal("1000", RoundTrip(expectedRequest, 7, CreateTopicsRequest.Read).Topics[0].Configs[0].Value);

        var response = new CreateTopicsResponse
        {
            ThrottleTimeMs = 0,
            Topics =
            [
                new()
                {
                    Name = "orders", TopicId = TopicId, ErrorCode = 0, ErrorMessage = null, NumPartitions = 3, ReplicationFactor = 1,
                    Configs = [new() { Name = "retention.ms", Value = "1000", ReadOnly = false, ConfigSource = 1, IsSensitive = false }],
                },
            ],
        };
        var expectedResponse = new Wire()
            .I32(0)                 // throttle_time_ms
            .CArr(1)                // topics
            .CStr("orders")         //   name
            .Uuid(TopicId)          //   topic_id (v7+)
            .I16(0)                 //   error_code
            .CStr(null)             //   error_message
            .I32(3)                 //   num_partitions (v5+)
            .I16(1)                 //   replication_factor (v5+)
            .CArr(1)                //   configs (v5+, nullable)
            .CStr("retention.ms")   //     name
            .CStr("1000")           //     value
            .Bool(false)            //     read_only
            .I8(1)                  //     config_source (DYNAMIC_TOPIC_CONFIG)
            .Bool(false)            //     is_sensitive
            .NoTags()
            .NoTags()               //   (topic_config_error_code, tag 0, at its default)
            .NoTags()
            .ToArray();
        Assert.Equal(expectedResponse, Encode(response, 7));
        Assert.Equal(TopicId, RoundTrip(expectedResponse, 7, CreateTopicsResponse.Read).Topics[0].TopicId);
    }

    [Fact]
    public void DeleteTopics_v6_names_topics_by_name_or_id()
    {
        var request = new DeleteTopicsRequest
        {
            Topics = [new() { Name = "orders", TopicId = Guid.Empty }, new() { Name = null, TopicId = TopicId }],
            TimeoutMs = 30000,
        };
        var expectedRequest = new Wire()
            .CArr(2)                // topics (v6+; topic_names is v0-5)
            .CStr("orders")         //   name
            .Uuid(Guid.Empty)       //   topic_id
            .NoTags()
            .CStr(null)             //   name
            .Uuid(TopicId)          //   topic_id
            .NoTags()
            .I32(30000)             // timeout_ms
            .NoTags()
            .ToArray();
        Assert.Equal(expectedRequest, Encode(request, 6));
        Assert.Equal(TopicId, RoundTrip(expectedRequest, 6, DeleteTopicsRequest.Read).Topics[1].TopicId);

        var response = new DeleteTopicsResponse
        {
            ThrottleTimeMs = 0,
            Responses = [new() { Name = null, TopicId = TopicId, ErrorCode = 100, ErrorMessage = "no topic has this id" }],
        };
        var expectedResponse = new Wire()
            .I32(0)                 // throttle_time_ms
            .CArr(1)                // responses
            .CStr(null)             //   name (nullable from v6)
            .Uuid(TopicId)          //   topic_id
            .I16(100)               //   error_code (UNKNOWN_TOPIC_ID)
            .CStr("no topic has this id") // error_message
            .NoTags()
            .NoTags()
            .ToArray();
        Assert.Equal(expectedResponse, Encode(response, 6));
        Assert.Equal(100, RoundTrip(expectedResponse, 6, DeleteTopicsResponse.Read).Responses[0].ErrorCode);
    }

    [Fact]
    public void FindCoordinator_v6_asks_for_several_keys()
    {
        var request = new FindCoordinatorRequest { KeyType = 0, CoordinatorKeys = ["g1", "g2"] };
        var expectedRequest = new Wire()
                                    // key: v0-3 only
            .I8(0)                  // key_type (group)
            .CArr(2).CStr("g1").CStr("g2") // coordinator_keys (v4+)
            .NoTags()
            .ToArray();
        Assert.Equal(expectedRequest, Encode(request, 6));
        Assert.Equal(["g1", "g2"], RoundTrip(expectedRequest, 6, FindCoordinatorRequest.Read).CoordinatorKeys);

        var response = new FindCoordinatorResponse
        {
            ThrottleTimeMs = 0,
            Coordinators = [new() { Key = "g1", NodeId = 1, Host = "127.0.0.1", Port = 9092, ErrorCode = 0, ErrorMessage = null }],
        };
        var expectedResponse = new Wire()
            .I32(0)                 // throttle_time_ms
                                    // error_code, error_message, node_id, host, port: v0-3 only
            .CArr(1)                // coordinators
            .CStr("g1")             //   key
            .I32(1)                 //   node_id
            .CStr("127.0.0.1")      //   host
            .I32(9092)              //   port
            .I16(0)                 //   error_code
            .CStr(null)             //   error_message
            .NoTags()
            .NoTags()
            .ToArray();
        Assert.Equal(expectedResponse, Encode(response, 6));
        Assert.Equal(9092, RoundTrip(expectedResponse, 6, FindCoordinatorResponse.Read).Coordinators[0].Port);
    }

    [Fact]
    public void InitProducerId_v5()
    {
        var request = new InitProducerIdRequest { TransactionalId = null, TransactionTimeoutMs = 60000, ProducerId = 7, ProducerEpoch = 2 };
        var expectedRequest = new Wire()
            .CStr(null)             // transactional_id
            .I32(60000)             // transaction_timeout_ms
            .I64(7)                 // producer_id (v3+)
            .I16(2)                 // producer_epoch (v3+)
            .NoTags()
            .ToArray();
        Assert.Equal(expectedRequest, Encode(request, 5));
        Assert.Equal(7, RoundTrip(expectedRequest, 5, InitProducerIdRequest.Read).ProducerId);

        var response = new InitProducerIdResponse { ThrottleTimeMs = 0, ErrorCode = 0, ProducerId = 1001, ProducerEpoch = 0 };
        var expectedResponse = new Wire().I32(0).I16(0).I64(1001).I16(0).NoTags().ToArray(); // throttle, error, producer_id, producer_epoch
        Assert.Equal(expectedResponse, Encode(response, 5));
        Assert.Equal(1001, RoundTrip(expectedResponse, 5, InitProducerIdResponse.Read).ProducerId);
    }

    [Fact]
    public void OffsetCommit_v9()
    {
        var request = new OffsetCommitRequest
        {
            GroupId = "billing", GenerationIdOrMemberEpoch = 3, MemberId = "m-1", GroupInstanceId = null,
            Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 0, CommittedOffset = 42, CommittedLeaderEpoch = -1, CommittedMetadata = "" }] }],
        };
        var expectedRequest = new Wire()
            .CStr("billing")        // group_id
            .I32(3)                 // generation_id_or_member_epoch
            .CStr("m-1")            // member_id
            .CStr(null)             // group_instance_id
                                    // retention_time_ms: v2-4 only
            .CArr(1)                // topics
            .CStr("orders")         //   name
            .CArr(1)                //   partitions
            .I32(0)                 //     partition_index
            .I64(42)                //     committed_offset
            .I32(-1)                //     committed_leader_epoch
                                    //     commit_timestamp: v1 only
            .CStr("")               //     committed_metadata
            .NoTags()
            .NoTags()
            .NoTags()
            .ToArray();
        Assert.Equal(expectedRequest, Encode(request, 9));
        Assert.Equal(42, RoundTrip(expectedRequest, 9, OffsetCommitRequest.Read).Topics[0].Partitions[0].CommittedOffset);

        var response = new OffsetCommitResponse { ThrottleTimeMs = 0, Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 0, ErrorCode = 22 }] }] };
        var expectedResponse = new Wire()
            .I32(0)                 // throttle_time_ms
            .CArr(1).CStr("orders") // topics, name
            .CArr(1).I32(0).I16(22) //   partitions: partition_index, error_code (ILLEGAL_GENERATION)
            .NoTags()
            .NoTags()
            .NoTags()
            .ToArray();
        Assert.Equal(expectedResponse, Encode(response, 9));
        Assert.Equal(22, RoundTrip(expectedResponse, 9, OffsetCommitResponse.Read).Topics[0].Partitions[0].ErrorCode);
    }

    [Fact]
    public void OffsetFetch_v9_asks_for_several_groups()
    {
        var request = new OffsetFetchRequest
        {
            Groups =
            [
                new() { GroupId = "a", MemberId = null, MemberEpoch = -1, Topics = [new() { Name = "orders", PartitionIndexes = [0, 1] }] },
                new() { GroupId = "b", MemberId = null, MemberEpoch = -1, Topics = null },
            ],
            RequireStable = false,
        };
        var expectedRequest = new Wire()
                                    // group_id, topics: v0-7 only
            .CArr(2)                // groups (v8+)
            .CStr("a")              //   group_id
            .CStr(null)             //   member_id (v9+)
            .I32(-1)                //   member_epoch (v9+)
            .CArr(1)                //   topics (nullable: null is every committed partition)
            .CStr("orders")         //     name
            .CArr(2).I32(0).I32(1)  //     partition_indexes
            .NoTags()
            .NoTags()
            .CStr("b")              //   group_id
            .CStr(null)             //   member_id
            .I32(-1)                //   member_epoch
            .UVarint(0)             //   topics (null)
            .NoTags()
            .Bool(false)            // require_stable
            .NoTags()
            .ToArray();
        Assert.Equal(expectedRequest, Encode(request, 9));
        var read = RoundTrip(expectedRequest, 9, OffsetFetchRequest.Read);
        Assert.Null(read.Groups[1].Topics);

        var response = new OffsetFetchResponse
        {
            ThrottleTimeMs = 0,
            Groups = [new() { GroupId = "a", ErrorCode = 0, Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 0, CommittedOffset = 42, CommittedLeaderEpoch = -1, Metadata = "", ErrorCode = 0 }] }] }],
        };
        var expectedResponse = new Wire()
            .I32(0)                 // throttle_time_ms
                                    // topics, error_code: v0-7 only
            .CArr(1)                // groups
            .CStr("a")              //   group_id
            .CArr(1)                //   topics
            .CStr("orders")         //     name
            .CArr(1)                //     partitions
            .I32(0)                 //       partition_index
            .I64(42)                //       committed_offset
            .I32(-1)                //       committed_leader_epoch
            .CStr("")               //       metadata
            .I16(0)                 //       error_code
            .NoTags()
            .NoTags()
            .I16(0)                 //   error_code (the group's)
            .NoTags()
            .NoTags()
            .ToArray();
        Assert.Equal(expectedResponse, Encode(response, 9));
        Assert.Equal(42, RoundTrip(expectedResponse, 9, OffsetFetchResponse.Read).Groups[0].Topics[0].Partitions[0].CommittedOffset);
    }

    [Fact]
    public void JoinGroup_v9()
    {
        byte[] metadata = [0, 1, 2];
        var request = new JoinGroupRequest
        {
            GroupId = "billing", SessionTimeoutMs = 10000, RebalanceTimeoutMs = 30000, MemberId = "", GroupInstanceId = null,
            ProtocolType = "consumer", Protocols = [new() { Name = "range", Metadata = metadata }], Reason = "joining",
        };
        var expectedRequest = new Wire()
            .CStr("billing")        // group_id
            .I32(10000)             // session_timeout_ms
            .I32(30000)             // rebalance_timeout_ms
            .CStr("")               // member_id
            .CStr(null)             // group_instance_id
            .CStr("consumer")       // protocol_type
            .CArr(1)                // protocols
            .CStr("range")          //   name
            .CBytes(metadata)       //   metadata
            .NoTags()
            .CStr("joining")        // reason (v8+)
            .NoTags()
            .ToArray();
        Assert.Equal(expectedRequest, Encode(request, 9));
        Assert.Equal("joining", RoundTrip(expectedRequest, 9, JoinGroupRequest.Read).Reason);

        var response = new JoinGroupResponse
        {
            ThrottleTimeMs = 0, ErrorCode = 0, GenerationId = 1, ProtocolType = "consumer", ProtocolName = "range",
            Leader = "m-1", SkipAssignment = false, MemberId = "m-1", Members = [new() { MemberId = "m-1", GroupInstanceId = null, Metadata = metadata }],
        };
        var expectedResponse = new Wire()
            .I32(0)                 // throttle_time_ms
            .I16(0)                 // error_code
            .I32(1)                 // generation_id
            .CStr("consumer")       // protocol_type (v7+)
            .CStr("range")          // protocol_name
            .CStr("m-1")            // leader
            .Bool(false)            // skip_assignment (v9+)
            .CStr("m-1")            // member_id
            .CArr(1)                // members
            .CStr("m-1")            //   member_id
            .CStr(null)             //   group_instance_id
            .CBytes(metadata)       //   metadata
            .NoTags()
            .NoTags()
            .ToArray();
        Assert.Equal(expectedResponse, Encode(response, 9));
        Assert.Equal("consumer", RoundTrip(expectedResponse, 9, JoinGroupResponse.Read).ProtocolType);
    }

    [Fact]
    public void SyncGroup_v5_and_Heartbeat_v4()
    {
        byte[] assignment = [4, 5];
        var request = new SyncGroupRequest
        {
            GroupId = "billing", GenerationId = 1, MemberId = "m-1", GroupInstanceId = null, ProtocolType = "consumer", ProtocolName = "range",
            Assignments = [new() { MemberId = "m-1", Assignment = assignment }],
        };
        var expectedRequest = new Wire()
            .CStr("billing")        // group_id
            .I32(1)                 // generation_id
            .CStr("m-1")            // member_id
            .CStr(null)             // group_instance_id
            .CStr("consumer")       // protocol_type (v5+)
            .CStr("range")          // protocol_name (v5+)
            .CArr(1)                // assignments
            .CStr("m-1")            //   member_id
            .CBytes(assignment)     //   assignment
            .NoTags()
            .NoTags()
            .ToArray();
        Assert.Equal(expectedRequest, Encode(request, 5));
        Assert.Equal("range", RoundTrip(expectedRequest, 5, SyncGroupRequest.Read).ProtocolName);

        var response = new SyncGroupResponse { ThrottleTimeMs = 0, ErrorCode = 0, ProtocolType = "consumer", ProtocolName = "range", Assignment = assignment };
        var expectedResponse = new Wire().I32(0).I16(0).CStr("consumer").CStr("range").CBytes(assignment).NoTags().ToArray();
        Assert.Equal(expectedResponse, Encode(response, 5));
        Assert.Equal(assignment, RoundTrip(expectedResponse, 5, SyncGroupResponse.Read).Assignment);

        var heartbeat = new HeartbeatRequest { GroupId = "billing", GenerationId = 1, MemberId = "m-1", GroupInstanceId = null };
        var expectedHeartbeat = new Wire().CStr("billing").I32(1).CStr("m-1").CStr(null).NoTags().ToArray();
        Assert.Equal(expectedHeartbeat, Encode(heartbeat, 4));
        Assert.Equal("m-1", RoundTrip(expectedHeartbeat, 4, HeartbeatRequest.Read).MemberId);
        var beat = new HeartbeatResponse { ThrottleTimeMs = 0, ErrorCode = 27 };
        var expectedBeat = new Wire().I32(0).I16(27).NoTags().ToArray(); // REBALANCE_IN_PROGRESS
        Assert.Equal(expectedBeat, Encode(beat, 4));
        Assert.Equal(27, RoundTrip(expectedBeat, 4, HeartbeatResponse.Read).ErrorCode);
    }

    [Fact]
    public void LeaveGroup_v5_gives_each_member_a_reason()
    {
        var request = new LeaveGroupRequest { GroupId = "billing", Members = [new() { MemberId = "m-1", GroupInstanceId = null, Reason = "shutting down" }] };
        var expectedRequest = new Wire()
            .CStr("billing")        // group_id
                                    // member_id: v0-2 only
            .CArr(1)                // members
            .CStr("m-1")            //   member_id
            .CStr(null)             //   group_instance_id
            .CStr("shutting down")  //   reason (v5+)
            .NoTags()
            .NoTags()
            .ToArray();
        Assert.Equal(expectedRequest, Encode(request, 5));
        Assert.Equal("shutting down", RoundTrip(expectedRequest, 5, LeaveGroupRequest.Read).Members[0].Reason);

        var response = new LeaveGroupResponse { ThrottleTimeMs = 0, ErrorCode = 0, Members = [new() { MemberId = "m-1", GroupInstanceId = null, ErrorCode = 25 }] };
        var expectedResponse = new Wire().I32(0).I16(0).CArr(1).CStr("m-1").CStr(null).I16(25).NoTags().NoTags().ToArray(); // UNKNOWN_MEMBER_ID
        Assert.Equal(expectedResponse, Encode(response, 5));
        Assert.Equal(25, RoundTrip(expectedResponse, 5, LeaveGroupResponse.Read).Members[0].ErrorCode);
    }

    [Fact]
    public void DescribeGroups_v5_and_ListGroups_v5()
    {
        var request = new DescribeGroupsRequest { Groups = ["billing"], IncludeAuthorizedOperations = false };
        var expectedRequest = new Wire().CArr(1).CStr("billing").Bool(false).NoTags().ToArray();
        Assert.Equal(expectedRequest, Encode(request, 5));
        Assert.Equal(["billing"], RoundTrip(expectedRequest, 5, DescribeGroupsRequest.Read).Groups);

        byte[] assignment = [1];
        var response = new DescribeGroupsResponse
        {
            ThrottleTimeMs = 0,
            Groups =
            [
                new()
                {
                    ErrorCode = 0, GroupId = "billing", GroupState = "Stable", ProtocolType = "consumer", ProtocolData = "range",
                    Members = [new() { MemberId = "m-1", GroupInstanceId = null, ClientId = "c", ClientHost = "", MemberMetadata = [], MemberAssignment = assignment }],
                },
            ],
        };
        var expectedResponse = new Wire()
            .I32(0)                 // throttle_time_ms
            .CArr(1)                // groups
            .I16(0)                 //   error_code
            .CStr("billing")        //   group_id
            .CStr("Stable")         //   group_state
            .CStr("consumer")       //   protocol_type
            .CStr("range")          //   protocol_data
            .CArr(1)                //   members
            .CStr("m-1")            //     member_id
            .CStr(null)             //     group_instance_id
            .CStr("c")              //     client_id
            .CStr("")               //     client_host
            .CBytes([])             //     member_metadata
            .CBytes(assignment)     //     member_assignment
            .NoTags()
            .I32(int.MinValue)      //   authorized_operations (not asked)
            .NoTags()
            .NoTags()
            .ToArray();
        Assert.Equal(expectedResponse, Encode(response, 5));
        Assert.Equal("Stable", RoundTrip(expectedResponse, 5, DescribeGroupsResponse.Read).Groups[0].GroupState);

        var list = new ListGroupsRequest { StatesFilter = ["Stable"], TypesFilter = ["classic"] };
        var expectedList = new Wire().CArr(1).CStr("Stable").CArr(1).CStr("classic").NoTags().ToArray(); // states_filter (v4+), types_filter (v5+)
        Assert.Equal(expectedList, Encode(list, 5));
        Assert.Equal(["classic"], RoundTrip(expectedList, 5, ListGroupsRequest.Read).TypesFilter);
        var listed = new ListGroupsResponse { ThrottleTimeMs = 0, ErrorCode = 0, Groups = [new() { GroupId = "billing", ProtocolType = "consumer", GroupState = "Stable", GroupType = "classic" }] };
        var expectedListed = new Wire()
            .I32(0).I16(0)          // throttle_time_ms, error_code
            .CArr(1)                // groups
            .CStr("billing")        //   group_id
            .CStr("consumer")       //   protocol_type
            .CStr("Stable")         //   group_state (v4+)
            .CStr("classic")        //   group_type (v5+)
            .NoTags()
            .NoTags()
            .ToArray();
        Assert.Equal(expectedListed, Encode(listed, 5));
        Assert.Equal("classic", RoundTrip(expectedListed, 5, ListGroupsResponse.Read).Groups[0].GroupType);
    }

    [Fact]
    public void ApiVersions_v4_and_SaslAuthenticate_v2()
    {
        var request = new ApiVersionsRequest { ClientSoftwareName = "platformatic-kafka", ClientSoftwareVersion = "1.35.0" };
        var expectedRequest = new Wire().CStr("platformatic-kafka").CStr("1.35.0").NoTags().ToArray();
        Assert.Equal(expectedRequest, Encode(request, 4));
        Assert.Equal("1.35.0", RoundTrip(expectedRequest, 4, ApiVersionsRequest.Read).ClientSoftwareVersion);
        var response = new ApiVersionsResponse { ErrorCode = 0, ApiKeys = [new() { ApiKey = 1, MinVersion = 4, MaxVersion = 17 }], ThrottleTimeMs = 0 };
        // error_code, api_keys (api_key, min, max), throttle_time_ms; the tagged features (tags 0-3) left out at their defaults
        var expectedResponse = new Wire().I16(0).CArr(1).I16(1).I16(4).I16(17).NoTags().I32(0).NoTags().ToArray();
        Assert.Equal(expectedResponse, Encode(response, 4));
        Assert.Equal(17, RoundTrip(expectedResponse, 4, ApiVersionsResponse.Read).ApiKeys[0].MaxVersion);

        var sasl = new SaslAuthenticateRequest { AuthBytes = [1, 2] };
        var expectedSasl = new Wire().CBytes([1, 2]).NoTags().ToArray();
        Assert.Equal(expectedSasl, Encode(sasl, 2));
        Assert.Equal([1, 2], RoundTrip(expectedSasl, 2, SaslAuthenticateRequest.Read).AuthBytes);
        var refused = new SaslAuthenticateResponse { ErrorCode = 58, ErrorMessage = "no", AuthBytes = [], SessionLifetimeMs = 0 };
        var expectedRefused = new Wire().I16(58).CStr("no").CBytes([]).I64(0).NoTags().ToArray(); // session_lifetime_ms is v1+
        Assert.Equal(expectedRefused, Encode(refused, 2));
        Assert.Equal(58, RoundTrip(expectedRefused, 2, SaslAuthenticateResponse.Read).ErrorCode);
    }
}
