using Broker.Kafka.Messages;
using Xunit;
using static Broker.Kafka.Tests.Messages.Codec;

namespace Broker.Kafka.Tests.Messages;

/// <summary>
/// The admin APIs and OffsetForLeaderEpoch the listener advertises since issue 15, request and response at their
/// lowest and highest advertised versions, against bytes written field by field from Kafka's JSON schemas.
/// </summary>
public sealed class AdminApiEncodingTests
{
    private static void Same<T>(IKafkaMessage message, short version, byte[] expected, Codec.ReadFn<T> read) where T : IKafkaMessage
    {
        Assert.Equal(expected, Encode(message, version));
        RoundTrip(expected, version, read);
    }

    [Fact]
    public void OffsetForLeaderEpoch_v0_and_v4()
    {
        var request = new OffsetForLeaderEpochRequest
        {
            ReplicaId = -1,
            Topics = [new() { Topic = "orders", Partitions = [new() { Partition = 1, CurrentLeaderEpoch = 6, LeaderEpoch = 5 }] }],
        };
        var v0 = new Wire()
                                    // replica_id: v3+
            .Arr(1).Str("orders")   // topics: topic
            .Arr(1)                 //   partitions
            .I32(1)                 //     partition
                                    //     current_leader_epoch: v2+
            .I32(5)                 //     leader_epoch
            .ToArray();
        var v4 = new Wire()
            .I32(-1)                // replica_id (-1: a consumer)
            .CArr(1).CStr("orders")
            .CArr(1)
            .I32(1)                 //     partition
            .I32(6)                 //     current_leader_epoch
            .I32(5)                 //     leader_epoch
            .NoTags().NoTags().NoTags()
            .ToArray();
        Assert.Equal(v0, Encode(request, 0));
        Assert.Equal(v4, Encode(request, 4));
        Assert.Equal(-1, RoundTrip(v0, 0, OffsetForLeaderEpochRequest.Read).Topics[0].Partitions[0].CurrentLeaderEpoch);
        Assert.Equal(6, RoundTrip(v4, 4, OffsetForLeaderEpochRequest.Read).Topics[0].Partitions[0].CurrentLeaderEpoch);

        var response = new OffsetForLeaderEpochResponse
        {
            ThrottleTimeMs = 0,
            Topics = [new() { Topic = "orders", Partitions = [new() { ErrorCode = 0, Partition = 1, LeaderEpoch = 5, EndOffset = 1200 }] }],
        };
        var r0 = new Wire()
                                    // throttle_time_ms: v2+
            .Arr(1).Str("orders")
            .Arr(1)
            .I16(0)                 //     error_code
            .I32(1)                 //     partition
                                    //     leader_epoch: v1+
            .I64(1200)              //     end_offset
            .ToArray();
        var r4 = new Wire()
            .I32(0)                 // throttle_time_ms
            .CArr(1).CStr("orders")
            .CArr(1)
            .I16(0).I32(1)
            .I32(5)                 //     leader_epoch
            .I64(1200)
            .NoTags().NoTags().NoTags()
            .ToArray();
        Assert.Equal(r0, Encode(response, 0));
        Assert.Equal(r4, Encode(response, 4));
        Assert.Equal(1200, RoundTrip(r0, 0, OffsetForLeaderEpochResponse.Read).Topics[0].Partitions[0].EndOffset);
        Assert.Equal(5, RoundTrip(r4, 4, OffsetForLeaderEpochResponse.Read).Topics[0].Partitions[0].LeaderEpoch);
    }

    [Fact]
    public void DescribeConfigs_v0_and_v4()
    {
        var request = new DescribeConfigsRequest
        {
            Resources = [new() { ResourceType = 2, ResourceName = "orders", ConfigurationKeys = null }],
            IncludeSynonyms = true, IncludeDocumentation = false,
        };
        var v0 = new Wire()
            .Arr(1)                 // resources
            .I8(2)                  //   resource_type (topic)
            .Str("orders")          //   resource_name
            .Arr(-1)                //   configuration_keys (null: every key)
                                    // include_synonyms: v1+, include_documentation: v3+
            .ToArray();
        var v4 = new Wire()
            .CArr(1).I8(2).CStr("orders").UVarint(0).NoTags()
            .Bool(true)             // include_synonyms
            .Bool(false)            // include_documentation
            .NoTags()
            .ToArray();
        Assert.Equal(v0, Encode(request, 0));
        Assert.Equal(v4, Encode(request, 4));
        Assert.Null(RoundTrip(v0, 0, DescribeConfigsRequest.Read).Resources[0].ConfigurationKeys);
        Assert.True(RoundTrip(v4, 4, DescribeConfigsRequest.Read).IncludeSynonyms);

        var response = new DescribeConfigsResponse
        {
            ThrottleTimeMs = 0,
            Results =
            [
                new()
                {
                    ErrorCode = 0, ErrorMessage = null, ResourceType = 2, ResourceName = "orders",
                    Configs =
                    [
                        new()
                        {
                            Name = "retention.ms", Value = "604800000", ReadOnly = false, IsDefault = true, ConfigSource = 5, IsSensitive = false,
                            Synonyms = [new() { Name = "retention.ms", Value = "604800000", Source = 5 }], ConfigType = 5, Documentation = null,
                        },
                    ],
                },
            ],
        };
        var r0 = new Wire()
            .I32(0)                 // throttle_time_ms
            .Arr(1)                 // results
            .I16(0)                 //   error_code
            .Str(null)              //   error_message
            .I8(2)                  //   resource_type
            .Str("orders")          //   resource_name
            .Arr(1)                 //   configs
            .Str("retention.ms")    //     name
            .Str("604800000")       //     value
            .Bool(false)            //     read_only
            .Bool(true)             //     is_default (v0 only)
                                    //     config_source, synonyms: v1+
            .Bool(false)            //     is_sensitive
                                    //     config_type, documentation: v3+
            .ToArray();
        var r4 = new Wire()
            .I32(0)
            .CArr(1)
            .I16(0).CStr(null).I8(2).CStr("orders")
            .CArr(1)
            .CStr("retention.ms")   //     name
            .CStr("604800000")      //     value
            .Bool(false)            //     read_only
            .I8(5)                  //     config_source (DEFAULT_CONFIG)
            .Bool(false)            //     is_sensitive
            .CArr(1)                //     synonyms
            .CStr("retention.ms").CStr("604800000").I8(5).NoTags()
            .I8(5)                  //     config_type (LONG)
            .CStr(null)             //     documentation
            .NoTags()
            .NoTags()
            .NoTags()
            .ToArray();
        Assert.Equal(r0, Encode(response, 0));
        Assert.Equal(r4, Encode(response, 4));
        Assert.True(RoundTrip(r0, 0, DescribeConfigsResponse.Read).Results[0].Configs[0].IsDefault);
        Assert.Equal(5, RoundTrip(r4, 4, DescribeConfigsResponse.Read).Results[0].Configs[0].ConfigSource);
    }

    [Fact]
    public void IncrementalAlterConfigs_v0_and_v1()
    {
        var request = new IncrementalAlterConfigsRequest
        {
            Resources = [new() { ResourceType = 2, ResourceName = "orders", Configs = [new() { Name = "retention.ms", ConfigOperation = 0, Value = "1000" }, new() { Name = "retention.bytes", ConfigOperation = 1, Value = null }] }],
            ValidateOnly = false,
        };
        var v0 = new Wire()
            .Arr(1).I8(2).Str("orders")                 // resources: resource_type, resource_name
            .Arr(2)                                     //   configs
            .Str("retention.ms").I8(0).Str("1000")      //     name, config_operation (SET), value
            .Str("retention.bytes").I8(1).Str(null)     //     DELETE, no value
            .Bool(false)                                // validate_only
            .ToArray();
        var v1 = new Wire()
            .CArr(1).I8(2).CStr("orders")
            .CArr(2)
            .CStr("retention.ms").I8(0).CStr("1000").NoTags()
            .CStr("retention.bytes").I8(1).CStr(null).NoTags()
            .NoTags()
            .Bool(false)
            .NoTags()
            .ToArray();
        Same(request, 0, v0, IncrementalAlterConfigsRequest.Read);
        Same(request, 1, v1, IncrementalAlterConfigsRequest.Read);

        var response = new IncrementalAlterConfigsResponse { ThrottleTimeMs = 0, Responses = [new() { ErrorCode = 40, ErrorMessage = "bad", ResourceType = 2, ResourceName = "orders" }] };
        Same(response, 0, new Wire().I32(0).Arr(1).I16(40).Str("bad").I8(2).Str("orders").ToArray(), IncrementalAlterConfigsResponse.Read);
        Same(response, 1, new Wire().I32(0).CArr(1).I16(40).CStr("bad").I8(2).CStr("orders").NoTags().NoTags().ToArray(), IncrementalAlterConfigsResponse.Read);
    }

    [Fact]
    public void CreatePartitions_v0_and_v3()
    {
        var request = new CreatePartitionsRequest { Topics = [new() { Name = "orders", Count = 6, Assignments = null }], TimeoutMs = 30000, ValidateOnly = false };
        // name, count, assignments (nullable: the broker places replicas); timeout_ms, validate_only
        Same(request, 0, new Wire().Arr(1).Str("orders").I32(6).Arr(-1).I32(30000).Bool(false).ToArray(), CreatePartitionsRequest.Read);
        Same(request, 3, new Wire().CArr(1).CStr("orders").I32(6).UVarint(0).NoTags().I32(30000).Bool(false).NoTags().ToArray(), CreatePartitionsRequest.Read);

        var response = new CreatePartitionsResponse { ThrottleTimeMs = 0, Results = [new() { Name = "orders", ErrorCode = 37, ErrorMessage = "fewer" }] };
        Same(response, 0, new Wire().I32(0).Arr(1).Str("orders").I16(37).Str("fewer").ToArray(), CreatePartitionsResponse.Read);
        Same(response, 3, new Wire().I32(0).CArr(1).CStr("orders").I16(37).CStr("fewer").NoTags().NoTags().ToArray(), CreatePartitionsResponse.Read);
    }

    [Fact]
    public void DeleteRecords_v0_and_v2()
    {
        var request = new DeleteRecordsRequest { Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 0, Offset = 1000 }] }], TimeoutMs = 30000 };
        // topics: name, partitions: partition_index, offset; timeout_ms
        Same(request, 0, new Wire().Arr(1).Str("orders").Arr(1).I32(0).I64(1000).I32(30000).ToArray(), DeleteRecordsRequest.Read);
        Same(request, 2, new Wire().CArr(1).CStr("orders").CArr(1).I32(0).I64(1000).NoTags().NoTags().I32(30000).NoTags().ToArray(), DeleteRecordsRequest.Read);

        var response = new DeleteRecordsResponse { ThrottleTimeMs = 0, Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 0, LowWatermark = 1000, ErrorCode = 0 }] }] };
        // throttle_time_ms; topics: name, partitions: partition_index, low_watermark, error_code
        Same(response, 0, new Wire().I32(0).Arr(1).Str("orders").Arr(1).I32(0).I64(1000).I16(0).ToArray(), DeleteRecordsResponse.Read);
        Same(response, 2, new Wire().I32(0).CArr(1).CStr("orders").CArr(1).I32(0).I64(1000).I16(0).NoTags().NoTags().NoTags().ToArray(), DeleteRecordsResponse.Read);
    }

    [Fact]
    public void DeleteGroups_v0_and_v2_and_OffsetDelete_v0()
    {
        var request = new DeleteGroupsRequest { GroupsNames = ["billing"] };
        Same(request, 0, new Wire().Arr(1).Str("billing").ToArray(), DeleteGroupsRequest.Read);
        Same(request, 2, new Wire().CArr(1).CStr("billing").NoTags().ToArray(), DeleteGroupsRequest.Read);
        var response = new DeleteGroupsResponse { ThrottleTimeMs = 0, Results = [new() { GroupId = "billing", ErrorCode = 68 }] }; // NON_EMPTY_GROUP
        Same(response, 0, new Wire().I32(0).Arr(1).Str("billing").I16(68).ToArray(), DeleteGroupsResponse.Read);
        Same(response, 2, new Wire().I32(0).CArr(1).CStr("billing").I16(68).NoTags().NoTags().ToArray(), DeleteGroupsResponse.Read);

        var offsets = new OffsetDeleteRequest { GroupId = "billing", Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 3 }] }] };
        Same(offsets, 0, new Wire().Str("billing").Arr(1).Str("orders").Arr(1).I32(3).ToArray(), OffsetDeleteRequest.Read);
        var deleted = new OffsetDeleteResponse { ErrorCode = 0, ThrottleTimeMs = 0, Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 3, ErrorCode = 86 }] }] };
        // error_code, throttle_time_ms, topics: name, partitions: partition_index, error_code (GROUP_SUBSCRIBED_TO_TOPIC)
        Same(deleted, 0, new Wire().I16(0).I32(0).Arr(1).Str("orders").Arr(1).I32(3).I16(86).ToArray(), OffsetDeleteResponse.Read);
    }

    [Fact]
    public void DescribeCluster_v0_and_v1()
    {
        var request = new DescribeClusterRequest { IncludeClusterAuthorizedOperations = false, EndpointType = 1 };
        Same(request, 0, new Wire().Bool(false).NoTags().ToArray(), DescribeClusterRequest.Read);              // endpoint_type: v1+
        Same(request, 1, new Wire().Bool(false).I8(1).NoTags().ToArray(), DescribeClusterRequest.Read);

        var response = new DescribeClusterResponse
        {
            ThrottleTimeMs = 0, ErrorCode = 0, ErrorMessage = null, EndpointType = 1, ClusterId = "broker", ControllerId = 1,
            Brokers = [new() { BrokerId = 1, Host = "127.0.0.1", Port = 9092, Rack = null }],
        };
        byte[] Body(bool v1)
        {
            var w = new Wire().I32(0).I16(0).CStr(null);                // throttle_time_ms, error_code, error_message
            if (v1) w.I8(1);                                            // endpoint_type (brokers)
            return w.CStr("broker").I32(1)                              // cluster_id, controller_id
                .CArr(1).I32(1).CStr("127.0.0.1").I32(9092).CStr(null).NoTags() // brokers: broker_id, host, port, rack
                .I32(int.MinValue)                                      // cluster_authorized_operations (not asked)
                .NoTags()
                .ToArray();
        }
        Same(response, 0, Body(v1: false), DescribeClusterResponse.Read);
        Same(response, 1, Body(v1: true), DescribeClusterResponse.Read);
    }

    [Fact]
    public void List_and_AlterPartitionReassignments_v0()
    {
        var list = new ListPartitionReassignmentsRequest { TimeoutMs = 60000, Topics = null };
        Same(list, 0, new Wire().I32(60000).UVarint(0).NoTags().ToArray(), ListPartitionReassignmentsRequest.Read); // topics null: every reassignment
        var listed = new ListPartitionReassignmentsResponse
        {
            ThrottleTimeMs = 0, ErrorCode = 0, ErrorMessage = null,
            Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 0, Replicas = [2, 4, 3], AddingReplicas = [4], RemovingReplicas = [3] }] }],
        };
        Same(listed, 0, new Wire().I32(0).I16(0).CStr(null)
            .CArr(1).CStr("orders").CArr(1).I32(0)
            .CArr(3).I32(2).I32(4).I32(3)   // replicas
            .CArr(1).I32(4)                 // adding_replicas
            .CArr(1).I32(3)                 // removing_replicas
            .NoTags().NoTags().NoTags().ToArray(), ListPartitionReassignmentsResponse.Read);

        var alter = new AlterPartitionReassignmentsRequest
        {
            TimeoutMs = 60000,
            Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 0, Replicas = [2, 4] }, new() { PartitionIndex = 1, Replicas = null }] }],
        };
        Same(alter, 0, new Wire().I32(60000)
            .CArr(1).CStr("orders").CArr(2)
            .I32(0).CArr(2).I32(2).I32(4).NoTags()  // a move
            .I32(1).UVarint(0).NoTags()             // replicas null: cancel
            .NoTags().NoTags().ToArray(), AlterPartitionReassignmentsRequest.Read);
        var altered = new AlterPartitionReassignmentsResponse
        {
            ThrottleTimeMs = 0, ErrorCode = 0, ErrorMessage = null,
            Responses = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 1, ErrorCode = 42, ErrorMessage = "no cancel" }] }],
        };
        Same(altered, 0, new Wire().I32(0).I16(0).CStr(null).CArr(1).CStr("orders").CArr(1).I32(1).I16(42).CStr("no cancel").NoTags().NoTags().NoTags().ToArray(), AlterPartitionReassignmentsResponse.Read);
    }

    [Fact]
    public void DescribeProducers_v0()
    {
        var request = new DescribeProducersRequest { Topics = [new() { Name = "orders", PartitionIndexes = [0, 1] }] };
        Same(request, 0, new Wire().CArr(1).CStr("orders").CArr(2).I32(0).I32(1).NoTags().NoTags().ToArray(), DescribeProducersRequest.Read);

        var response = new DescribeProducersResponse
        {
            ThrottleTimeMs = 0,
            Topics =
            [
                new()
                {
                    Name = "orders",
                    Partitions = [new() { PartitionIndex = 0, ErrorCode = 0, ErrorMessage = null, ActiveProducers = [new() { ProducerId = 4294967297, ProducerEpoch = 2, LastSequence = 4, LastTimestamp = 1700000000000, CoordinatorEpoch = -1, CurrentTxnStartOffset = -1 }] }],
                },
            ],
        };
        Same(response, 0, new Wire()
            .I32(0)                             // throttle_time_ms
            .CArr(1).CStr("orders")             // topics: name
            .CArr(1)                            //   partitions
            .I32(0).I16(0).CStr(null)           //     partition_index, error_code, error_message
            .CArr(1)                            //     active_producers
            .I64(4294967297)                    //       producer_id
            .I32(2)                             //       producer_epoch (int32 here)
            .I32(4)                             //       last_sequence
            .I64(1700000000000)                 //       last_timestamp
            .I32(-1)                            //       coordinator_epoch
            .I64(-1)                            //       current_txn_start_offset
            .NoTags()
            .NoTags().NoTags().NoTags()
            .ToArray(), DescribeProducersResponse.Read);
    }
    [Fact]
    public void ElectLeaders_v0_and_v2()
    {
        var request = new ElectLeadersRequest { ElectionType = 1, TopicPartitions = [new() { Topic = "orders", Partitions = [0, 2] }], TimeoutMs = 30000 };
        var v0 = new Wire()
                                    // election_type: v1+
            .Arr(1).Str("orders")   // topic_partitions: topic
            .Arr(2).I32(0).I32(2)   //   partitions
            .I32(30000)             // timeout_ms
            .ToArray();
        var v2 = new Wire()
            .I8(1)                  // election_type: unclean
            .CArr(1).CStr("orders")
            .CArr(2).I32(0).I32(2)
            .NoTags()
            .I32(30000)
            .NoTags()
            .ToArray();
        Assert.Equal(v0, Encode(request, 0));
        Assert.Equal(v2, Encode(request, 2));
        Assert.Equal(0, RoundTrip(v0, 0, ElectLeadersRequest.Read).ElectionType);
        Assert.Equal([0, 2], RoundTrip(v2, 2, ElectLeadersRequest.Read).TopicPartitions![0].Partitions);
        var all = new Wire().I8(0).UVarint(0).I32(60000).NoTags().ToArray(); // null topic_partitions: every partition
        Assert.Null(RoundTrip(all, 2, ElectLeadersRequest.Read).TopicPartitions);

        var response = new ElectLeadersResponse
        {
            ThrottleTimeMs = 0, ErrorCode = 0,
            ReplicaElectionResults = [new() { Topic = "orders", PartitionResults = [new() { PartitionId = 2, ErrorCode = 84, ErrorMessage = "not needed" }] }],
        };
        var r0 = new Wire()
            .I32(0)                 // throttle_time_ms
                                    // error_code: v1+
            .Arr(1).Str("orders")   // replica_election_results: topic
            .Arr(1).I32(2).I16(84).Str("not needed")
            .ToArray();
        var r2 = new Wire()
            .I32(0)
            .I16(0)                 // error_code
            .CArr(1).CStr("orders")
            .CArr(1).I32(2).I16(84).CStr("not needed").NoTags()
            .NoTags()
            .NoTags()
            .ToArray();
        Same(response, 0, r0, ElectLeadersResponse.Read);
        Same(response, 2, r2, ElectLeadersResponse.Read);
    }
}
