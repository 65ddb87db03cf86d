using Broker.Protocol;
using Broker.Protocol.Messages;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Topics;

public sealed class TopicRegistryTests(ITestOutputHelper output) : NodeTestKit(output)
{
    private TopicResult Create(string name, int partitions, short replication = 1, Dictionary<string, string>? configs = null) =>
        Request<CreateTopicsResponse>(new CreateTopicsRequest([new TopicSpec(name, partitions, replication, configs ?? new())])).Results[0];

    [Fact]
    public void Creating_a_topic_twice_gets_TopicAlreadyExists()
    {
        Assert.Equal(ErrorCode.None, Create("dup", 1).Error);
        Assert.Equal(ErrorCode.TopicAlreadyExists, Create("dup", 1).Error);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(10_001)]
    public void Invalid_partition_count_gets_InvalidPartitions(int partitions)
    {
        var result = Create("bad-count", partitions);
        Assert.Equal(ErrorCode.InvalidPartitions, result.Error);
        Assert.Contains("between 1 and", result.ErrorMessage);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("slash/topic")]
    [InlineData("")]
    [InlineData("..")]
    public void Invalid_topic_name_gets_InvalidTopic(string name) => Assert.Equal(ErrorCode.InvalidTopic, Create(name, 1).Error);

    [Fact]
    public void Invalid_config_gets_InvalidConfig_naming_the_key()
    {
        var unknown = Create("cfg", 1, configs: new() { ["cleanup.policy"] = "compact" });
        Assert.Equal(ErrorCode.InvalidConfig, unknown.Error);
        Assert.Contains("cleanup.policy", unknown.ErrorMessage);
        Assert.Equal(ErrorCode.InvalidConfig, Create("cfg", 1, configs: new() { ["retention.ms"] = "soon" }).Error);
        Assert.Equal(ErrorCode.InvalidReplicationFactor, Create("cfg", 1, replication: 0).Error);
        // One live node: three replicas cannot be placed on distinct nodes.
        var tooMany = Create("cfg", 1, replication: 3);
        Assert.Equal(ErrorCode.InvalidReplicationFactor, tooMany.Error);
        Assert.Contains("the 1 live node(s)", tooMany.ErrorMessage);
        Assert.Equal(ErrorCode.InvalidConfig, Create("cfg", 1, replication: 1, configs: new() { ["min.insync.replicas"] = "2" }).Error);
        Assert.Equal(ErrorCode.None, Create("cfg", 1, replication: -1, configs: new() { ["retention.ms"] = "1000" }).Error);
    }

    [Fact]
    public void Reassigning_to_nodes_that_cannot_hold_the_replicas_gets_a_typed_error_and_changes_nothing()
    {
        Assert.Equal(ErrorCode.None, Create("move", 2).Error);
        ReassignmentResult Move(string topic, int partition, params int[] replicas) =>
            Request<ReassignPartitionsResponse>(new ReassignPartitionsRequest([new PartitionReassignment(topic, partition, replicas)])).Results[0];

        var unknownNode = Move("move", 0, 424242);
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, unknownNode.Error);
        Assert.Contains("node 424242 is not a live member", unknownNode.ErrorMessage);
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, Move("move", 0, 1, 2).Error); // RF 1 topic: one replica
        Assert.Equal(ErrorCode.UnknownPartition, Move("move", 7, 1).Error);
        Assert.Equal(ErrorCode.UnknownTopic, Move("ghost", 0, 1).Error);

        var metadata = Request<MetadataResponse>(new MetadataRequest(["move"])).Topics[0];
        Assert.All(metadata.Partitions, p =>
        {
            Assert.Single(p.Replicas);
            Assert.Empty(p.AddingReplicas);
            Assert.Empty(p.RemovingReplicas);
        });
        // Naming the replica it already has is accepted and moves nothing.
        Assert.Equal(ErrorCode.None, Move("move", 0, metadata.Partitions[0].Replicas[0]).Error);
    }

    [Fact]
    public void Deleting_unknown_topic_gets_UnknownTopic()
    {
        var result = Request<DeleteTopicsResponse>(new DeleteTopicsRequest(["ghost"])).Results[0];
        Assert.Equal(ErrorCode.UnknownTopic, result.Error);
    }

    [Fact]
    public void Deleted_topic_rejects_produce_and_a_recreated_topic_starts_empty()
    {
        CreateTopic("phoenix", 1);
        Produce("phoenix", 0, Batch(5));
        Assert.Equal(ErrorCode.None, Request<DeleteTopicsResponse>(new DeleteTopicsRequest(["phoenix"])).Results[0].Error);
        AwaitAssert(() => Assert.Equal(ErrorCode.UnknownTopic, Produce("phoenix", 0, Batch(1)).Error), TimeSpan.FromSeconds(10));

        CreateTopic("phoenix", 2);
        AwaitAssert(() =>
        {
            var result = Produce("phoenix", 0, Batch(1, "new"));
            Assert.Equal(ErrorCode.None, result.Error);
            // The first record of the new incarnation: never appended to the old log, which is purged.
            Assert.Equal(0, result.BaseOffset);
        }, TimeSpan.FromSeconds(10));
        AwaitAssert(() =>
        {
            // Reads may briefly get NotLeader while the replica moves to the new incarnation.
            var fetched = Request<FetchResponse>(new FetchRequest("phoenix", 0, 0, 1 << 20, 0));
            Assert.Equal(["new0"], Records(fetched.Records).Select(r => Text(r.Value)));
        }, TimeSpan.FromSeconds(10));
    }
}
