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
    public void Altering_configs_changes_only_the_named_keys_and_a_bad_value_changes_nothing()
    {
        Assert.Equal(ErrorCode.None, Create("alter", 1, configs: new() { ["retention.bytes"] = "1000000" }).Error);
        TopicResult Alter(string topic, bool validateOnly, params TopicConfigChange[] changes) =>
            Request<AlterTopicConfigsResponse>(new AlterTopicConfigsRequest([new TopicConfigAlteration(topic, changes)], validateOnly)).Results[0];
        IReadOnlyDictionary<string, string> Configs() => Request<MetadataResponse>(new MetadataRequest(["alter"])).Topics[0].Configs;

        Assert.Equal(ErrorCode.None, Alter("alter", false, new TopicConfigChange("retention.ms", ConfigOperation.Set, "60000")).Error);
        Assert.Equal(("60000", "1000000"), (Configs()["retention.ms"], Configs()["retention.bytes"]));
        Assert.Equal(ErrorCode.None, Alter("alter", false, new TopicConfigChange("retention.bytes", ConfigOperation.Delete, null)).Error);
        Assert.False(Configs().ContainsKey("retention.bytes"));

        // One bad change refuses the topic's whole set; validate-only checks without applying.
        var bad = Alter("alter", false, new TopicConfigChange("retention.ms", ConfigOperation.Set, "1"), new TopicConfigChange("min.insync.replicas", ConfigOperation.Set, "2"));
        Assert.Equal(ErrorCode.InvalidConfig, bad.Error);
        Assert.Contains("replication factor 1", bad.ErrorMessage);
        Assert.Equal(ErrorCode.InvalidConfig, Alter("alter", false, new TopicConfigChange("cleanup.policy", ConfigOperation.Set, "compact")).Error);
        Assert.Equal(ErrorCode.None, Alter("alter", validateOnly: true, new TopicConfigChange("retention.ms", ConfigOperation.Set, "5")).Error);
        Assert.Equal("60000", Configs()["retention.ms"]);
        Assert.Equal(ErrorCode.UnknownTopic, Alter("ghost", false, new TopicConfigChange("retention.ms", ConfigOperation.Set, "5")).Error);
    }

    [Fact]
    public void Adding_partitions_places_the_new_ones_and_they_take_records_while_fewer_gets_InvalidPartitions()
    {
        CreateTopic("grow", 2);
        Produce("grow", 0, Batch(2));
        TopicResult Grow(string topic, int count, bool validateOnly = false) =>
            Request<CreatePartitionsResponse>(new CreatePartitionsRequest([new PartitionCountChange(topic, count)], validateOnly)).Results[0];

        Assert.Equal(ErrorCode.None, Grow("grow", 3, validateOnly: true).Error);
        Assert.Equal(2, Request<MetadataResponse>(new MetadataRequest(["grow"])).Topics[0].Partitions.Count);
        Assert.Equal(ErrorCode.None, Grow("grow", 3).Error);
        Assert.Equal(3, Request<MetadataResponse>(new MetadataRequest(["grow"])).Topics[0].Partitions.Count);
        AwaitAssert(() => Assert.Equal(ErrorCode.None, Produce("grow", 2, Batch(1)).Error), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200));
        Assert.Equal(2, Request<ListOffsetsResponse>(new ListOffsetsRequest("grow", 0, OffsetSpec.Latest)).Offset); // the old partitions keep their records

        var fewer = Grow("grow", 2);
        Assert.Equal(ErrorCode.InvalidPartitions, fewer.Error);
        Assert.Contains("cannot be removed", fewer.ErrorMessage);
        Assert.Equal(ErrorCode.InvalidPartitions, Grow("grow", 10_001).Error);
        Assert.Equal(ErrorCode.UnknownTopic, Grow("ghost", 4).Error);
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
