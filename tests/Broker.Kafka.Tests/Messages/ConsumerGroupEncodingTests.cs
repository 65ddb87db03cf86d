using Broker.Kafka.Messages;
using Xunit;
using static Broker.Kafka.Tests.Messages.Codec;

namespace Broker.Kafka.Tests.Messages;

/// <summary>
/// KIP-848's ConsumerGroupHeartbeat (v0-1) and ConsumerGroupDescribe (v0), request and response at their lowest and
/// highest versions, against bytes written field by field from Kafka's JSON schemas. These are the first schemas with
/// common structs (TopicPartitions, Assignment) and a nullable struct (the heartbeat's Assignment: an int8 -1 or 1 first).
/// </summary>
public sealed class ConsumerGroupEncodingTests
{
    private static readonly Guid Orders = Guid.Parse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");

    [Fact]
    public void ConsumerGroupHeartbeatRequest_v0_and_v1()
    {
        var request = new ConsumerGroupHeartbeatRequest
        {
            GroupId = "billing",
            MemberId = "m-1",
            MemberEpoch = 3,
            RebalanceTimeoutMs = 300000,
            SubscribedTopicNames = ["orders"],
            ServerAssignor = "uniform",
            TopicPartitions = [new() { TopicId = Orders, Partitions = [0, 2] }],
        };
        var v0 = new Wire()
            .CStr("billing")          // group_id
            .CStr("m-1")              // member_id
            .I32(3)                   // member_epoch
            .CStr(null)               // instance_id
            .CStr(null)               // rack_id
            .I32(300000)              // rebalance_timeout_ms
            .CArr(1).CStr("orders")   // subscribed_topic_names
                                      // subscribed_topic_regex: v1+
            .CStr("uniform")          // server_assignor
            .CArr(1)                  // topic_partitions
            .Uuid(Orders)             //   topic_id
            .CArr(2).I32(0).I32(2)    //   partitions
            .NoTags()
            .NoTags()
            .ToArray();
        var v1 = new Wire()
            .CStr("billing").CStr("m-1").I32(3).CStr(null).CStr(null).I32(300000)
            .CArr(1).CStr("orders")
            .CStr(null)               // subscribed_topic_regex
            .CStr("uniform")
            .CArr(1).Uuid(Orders).CArr(2).I32(0).I32(2).NoTags()
            .NoTags()
            .ToArray();
        Assert.Equal(v0, Encode(request, 0));
        Assert.Equal(v1, Encode(request, 1));
        Assert.Equal(Orders, RoundTrip(v0, 0, ConsumerGroupHeartbeatRequest.Read).TopicPartitions![0].TopicId);
        Assert.Equal(["orders"], RoundTrip(v1, 1, ConsumerGroupHeartbeatRequest.Read).SubscribedTopicNames!);

        // A plain heartbeat: every "unchanged" field null.
        var plain = new ConsumerGroupHeartbeatRequest { GroupId = "billing", MemberId = "m-1", MemberEpoch = 4 };
        var plainV1 = new Wire()
            .CStr("billing").CStr("m-1").I32(4).CStr(null).CStr(null)
            .I32(-1)                  // rebalance_timeout_ms: -1, unchanged
            .CArr(-1)                 // subscribed_topic_names: null
            .CStr(null).CStr(null)
            .CArr(-1)                 // topic_partitions: null
            .NoTags()
            .ToArray();
        Assert.Equal(plainV1, Encode(plain, 1));
        Assert.Null(RoundTrip(plainV1, 1, ConsumerGroupHeartbeatRequest.Read).TopicPartitions);
    }

    [Fact]
    public void ConsumerGroupHeartbeatResponse_v0_and_v1_with_and_without_an_assignment()
    {
        var response = new ConsumerGroupHeartbeatResponse
        {
            ErrorCode = 0,
            MemberId = "m-1",
            MemberEpoch = 5,
            HeartbeatIntervalMs = 5000,
            Assignment = new() { TopicPartitions = [new() { TopicId = Orders, Partitions = [1] }] },
        };
        var withAssignment = new Wire()
            .I32(0)                   // throttle_time_ms
            .I16(0)                   // error_code
            .CStr(null)               // error_message
            .CStr("m-1")              // member_id
            .I32(5)                   // member_epoch
            .I32(5000)                // heartbeat_interval_ms
            .I8(1)                    // assignment: present
            .CArr(1).Uuid(Orders).CArr(1).I32(1).NoTags()
            .NoTags()                 //   assignment's tags
            .NoTags()
            .ToArray();
        Assert.Equal(withAssignment, Encode(response, 0));
        Assert.Equal(withAssignment, Encode(response, 1)); // v1 changes only what the member id may be
        Assert.Equal(1, RoundTrip(withAssignment, 1, ConsumerGroupHeartbeatResponse.Read).Assignment!.TopicPartitions[0].Partitions[0]);

        var fenced = new ConsumerGroupHeartbeatResponse { ErrorCode = 110, ErrorMessage = "fenced", MemberId = "m-1", MemberEpoch = 5 };
        var withoutAssignment = new Wire()
            .I32(0).I16(110).CStr("fenced").CStr("m-1").I32(5).I32(0)
            .I8(-1)                   // assignment: null (unchanged)
            .NoTags()
            .ToArray();
        Assert.Equal(withoutAssignment, Encode(fenced, 0));
        Assert.Null(RoundTrip(withoutAssignment, 1, ConsumerGroupHeartbeatResponse.Read).Assignment);
    }

    [Fact]
    public void ConsumerGroupDescribe_v0()
    {
        var request = new ConsumerGroupDescribeRequest { GroupIds = ["billing"], IncludeAuthorizedOperations = true };
        var r0 = new Wire().CArr(1).CStr("billing").Bool(true).NoTags().ToArray();
        Assert.Equal(r0, Encode(request, 0));
        Assert.True(RoundTrip(r0, 0, ConsumerGroupDescribeRequest.Read).IncludeAuthorizedOperations);

        var assignment = new ConsumerGroupDescribeResponse.AssignmentData
        {
            TopicPartitions = [new() { TopicId = Orders, TopicName = "orders", Partitions = [0] }],
        };
        var response = new ConsumerGroupDescribeResponse
        {
            Groups =
            [
                new()
                {
                    GroupId = "billing", GroupState = "Stable", GroupEpoch = 2, AssignmentEpoch = 2, AssignorName = "uniform",
                    Members =
                    [
                        new()
                        {
                            MemberId = "m-1", MemberEpoch = 2, ClientId = "rdkafka", ClientHost = "", SubscribedTopicNames = ["orders"],
                            Assignment = assignment, TargetAssignment = assignment,
                        },
                    ],
                },
            ],
        };
        byte[] Assignment(Wire w) => w
            .CArr(1).Uuid(Orders).CStr("orders").CArr(1).I32(0).NoTags() // topic_partitions
            .NoTags()
            .ToArray();
        var member = new Wire()
            .CStr("m-1")              // member_id
            .CStr(null).CStr(null)    // instance_id, rack_id
            .I32(2)                   // member_epoch
            .CStr("rdkafka").CStr("") // client_id, client_host
            .CArr(1).CStr("orders")   // subscribed_topic_names
            .CStr(null);              // subscribed_topic_regex
        var expected = new Wire()
            .I32(0)                   // throttle_time_ms
            .CArr(1)
            .I16(0).CStr(null)        // error_code, error_message
            .CStr("billing").CStr("Stable").I32(2).I32(2).CStr("uniform")
            .CArr(1)
            .Raw(member.ToArray())
            .Raw(Assignment(new Wire()))
            .Raw(Assignment(new Wire()))
            .NoTags()                 // member's tags
            .I32(int.MinValue)        // authorized_operations: not asked
            .NoTags()                 // group's tags
            .NoTags()
            .ToArray();
        Assert.Equal(expected, Encode(response, 0));
        Assert.Equal("uniform", RoundTrip(expected, 0, ConsumerGroupDescribeResponse.Read).Groups[0].AssignorName);
    }
}
