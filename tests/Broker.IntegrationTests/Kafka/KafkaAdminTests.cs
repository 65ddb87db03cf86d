using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit;

namespace Broker.IntegrationTests.Kafka;

/// <summary>
/// Confluent.Kafka's AdminClient (librdkafka) against a real node: the admin APIs Kafka's tools and UIs use
/// (issue 15, must-show 2), each once as it should be used and once with a wrong argument, which must come back
/// with Kafka's error code.
/// </summary>
public sealed class KafkaAdminTests(OneNodeFixture node) : IClassFixture<OneNodeFixture>
{
    private BrokerProcess Node => node.Process;

    private IAdminClient Admin => node.KafkaAdmin;

    private async Task CreateTopicAsync(string topic, int partitions)
    {
        await Admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }]);
        await LeadersAsync(topic, partitions);
    }

    /// <summary>As in Kafka, leaders are elected after CreateTopics (and CreatePartitions) return.</summary>
    private Task LeadersAsync(string topic, int partitions) => global::Broker.Tests.Eventually.TrueAsync(() =>
    {
        var found = Admin.GetMetadata(topic, TimeSpan.FromSeconds(20)).Topics.Single().Partitions;
        return Task.FromResult(found.Count == partitions && found.All(p => p.Leader == Node.NodeId));
    }, TimeSpan.FromSeconds(30), $"every partition of {topic} to have a leader");

    [Fact]
    public async Task DescribeConfigs_lists_a_topics_configs_with_their_sources_and_IncrementalAlterConfigs_changes_one_key()
    {
        await CreateTopicAsync("admin-configs", 1);
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = "admin-configs" };

        var before = (await Admin.DescribeConfigsAsync([resource])).Single().Entries;
        Assert.Equal(ConfigSource.DefaultConfig, before["retention.ms"].Source);
        Assert.True(before["retention.ms"].IsDefault);
        Assert.Contains("max.message.bytes", before.Keys);

        await Admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] = [new ConfigEntry { Name = "retention.ms", Value = "3600000", IncrementalOperation = AlterConfigOpType.Set }],
        });
        var after = (await Admin.DescribeConfigsAsync([resource])).Single().Entries;
        Assert.Equal(("3600000", ConfigSource.DynamicTopicConfig), (after["retention.ms"].Value, after["retention.ms"].Source));
        Assert.Equal(before["max.message.bytes"].Value, after["max.message.bytes"].Value); // other keys keep theirs

        // DELETE falls back to the default.
        await Admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] = [new ConfigEntry { Name = "retention.ms", IncrementalOperation = AlterConfigOpType.Delete }],
        });
        var reset = (await Admin.DescribeConfigsAsync([resource])).Single().Entries;
        Assert.Equal((before["retention.ms"].Value, ConfigSource.DefaultConfig), (reset["retention.ms"].Value, reset["retention.ms"].Source));

        // Wrong arguments: a topic that does not exist, a value that is not a number.
        var unknown = await Assert.ThrowsAsync<DescribeConfigsException>(() => Admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = "no-such-topic" }]));
        Assert.Equal(ErrorCode.UnknownTopicOrPart, unknown.Results.Single().Error.Code);
        var invalid = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => Admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] = [new ConfigEntry { Name = "retention.ms", Value = "soon", IncrementalOperation = AlterConfigOpType.Set }],
        }));
        Assert.Equal(ErrorCode.InvalidConfig, invalid.Results.Single().Error.Code);
        var unchanged = (await Admin.DescribeConfigsAsync([resource])).Single().Entries;
        Assert.Equal(before["retention.ms"].Value, unchanged["retention.ms"].Value);

        // Broker configs are the node's own, read-only.
        var node = new ConfigResource { Type = ResourceType.Broker, Name = Node.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var broker = (await Admin.DescribeConfigsAsync([node])).Single().Entries;
        Assert.Equal(("false", true), (broker["auto.create.topics.enable"].Value, broker["auto.create.topics.enable"].IsReadOnly));
    }

    [Fact]
    public async Task CreatePartitions_adds_partitions_that_a_producer_then_writes_to_and_refuses_fewer()
    {
        await CreateTopicAsync("admin-grow", 2);
        await Admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = "admin-grow", IncreaseTo = 4 }]);
        await LeadersAsync("admin-grow", 4);

        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = Node.KafkaBootstrap, Acks = Acks.All }).Build())
        {
            var delivered = await producer.ProduceAsync(new TopicPartition("admin-grow", 3), new Message<Null, string> { Value = "into the new partition" });
            Assert.Equal((3, 0L), (delivered.Partition.Value, delivered.Offset.Value));
        }

        var fewer = await Assert.ThrowsAsync<CreatePartitionsException>(() => Admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = "admin-grow", IncreaseTo = 3 }]));
        Assert.Equal(ErrorCode.InvalidPartitions, fewer.Results.Single().Error.Code);
        var unknown = await Assert.ThrowsAsync<CreatePartitionsException>(() => Admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = "no-such-topic", IncreaseTo = 3 }]));
        Assert.Equal(ErrorCode.UnknownTopicOrPart, unknown.Results.Single().Error.Code);
    }

    [Fact]
    public async Task DeleteGroups_refuses_a_group_with_members_and_deletes_an_empty_one_with_its_offsets()
    {
        await CreateTopicAsync("admin-groups", 1);
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = Node.KafkaBootstrap }).Build())
            await producer.ProduceAsync("admin-groups", new Message<Null, string> { Value = "one" });
        var config = new ConsumerConfig { BootstrapServers = Node.KafkaBootstrap, GroupId = "admin-doomed", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false };
        using (var member = new ConsumerBuilder<Null, string>(config).Build())
        {
            member.Subscribe("admin-groups");
            var record = member.Consume(TimeSpan.FromSeconds(30));
            Assert.NotNull(record);
            member.Commit(record);

            var busy = await Assert.ThrowsAsync<DeleteGroupsException>(() => Admin.DeleteGroupsAsync(["admin-doomed"]));
            Assert.Equal(ErrorCode.NonEmptyGroup, busy.Results.Single().Error.Code);
            member.Close(); // leaves the group
        }

        var committed = await Admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions("admin-doomed", [new TopicPartition("admin-groups", 0)])]);
        Assert.Equal(1, committed.Single().Partitions.Single().Offset.Value);
        await Admin.DeleteGroupsAsync(["admin-doomed"]);
        var after = await Admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions("admin-doomed", [new TopicPartition("admin-groups", 0)])]);
        Assert.Equal(Offset.Unset, after.Single().Partitions.Single().Offset);
        var listed = await Admin.ListConsumerGroupsAsync();
        Assert.DoesNotContain(listed.Valid, g => g.GroupId == "admin-doomed");

        var unknown = await Assert.ThrowsAsync<DeleteGroupsException>(() => Admin.DeleteGroupsAsync(["admin-never-existed"]));
        Assert.Equal(ErrorCode.GroupIdNotFound, unknown.Results.Single().Error.Code);
    }

    [Fact]
    public async Task ListConsumerGroups_reports_a_KIP_848_group_as_type_Consumer_and_filters_by_type()
    {
        await CreateTopicAsync("admin-kip848", 1);
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = Node.KafkaBootstrap, Acks = Acks.All }).Build())
            await producer.ProduceAsync("admin-kip848", new Message<Null, string> { Value = "one" });
        var config = new ConsumerConfig
        {
            BootstrapServers = Node.KafkaBootstrap, GroupId = "admin-kip848-group", GroupProtocol = GroupProtocol.Consumer,
            AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        };
        using var member = new ConsumerBuilder<Null, string>(config).Build();
        member.Subscribe("admin-kip848");
        Assert.NotNull(member.Consume(TimeSpan.FromSeconds(30))); // assigned: the group exists with one member

        var consumers = await Admin.ListConsumerGroupsAsync(new ListConsumerGroupsOptions { MatchTypes = [ConsumerGroupType.Consumer] });
        Assert.Equal(ConsumerGroupType.Consumer, Assert.Single(consumers.Valid, g => g.GroupId == "admin-kip848-group").Type);
        var classic = await Admin.ListConsumerGroupsAsync(new ListConsumerGroupsOptions { MatchTypes = [ConsumerGroupType.Classic] });
        Assert.DoesNotContain(classic.Valid, g => g.GroupId == "admin-kip848-group");
        member.Close();
    }

    [Fact]
    public async Task DeleteRecords_moves_the_log_start_so_a_consumer_from_the_beginning_starts_there()
    {
        await CreateTopicAsync("admin-trim", 1);
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = Node.KafkaBootstrap, Acks = Acks.All, LingerMs = 0 }).Build())
        {
            for (var i = 0; i < 10; i++) await producer.ProduceAsync("admin-trim", new Message<Null, string> { Value = $"v{i}" });
        }
        var deleted = await Admin.DeleteRecordsAsync([new TopicPartitionOffset("admin-trim", 0, 4)]);
        Assert.Equal(4, deleted.Single().Offset.Value);

        using (var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig { BootstrapServers = Node.KafkaBootstrap, GroupId = "admin-trim-reader", AutoOffsetReset = AutoOffsetReset.Earliest }).Build())
        {
            consumer.Subscribe("admin-trim");
            var first = consumer.Consume(TimeSpan.FromSeconds(30));
            Assert.NotNull(first);
            Assert.Equal((4L, "v4"), (first.Offset.Value, first.Message.Value));
            consumer.Close();
        }

        var beyond = await Assert.ThrowsAsync<DeleteRecordsException>(() => Admin.DeleteRecordsAsync([new TopicPartitionOffset("admin-trim", 0, 100)]));
        Assert.Equal(ErrorCode.OffsetOutOfRange, beyond.Results.Single().Error.Code);
    }

    [Fact]
    public async Task DescribeCluster_names_the_node_as_broker_and_controller()
    {
        var cluster = await Admin.DescribeClusterAsync();
        var node = Assert.Single(cluster.Nodes);
        Assert.Equal((Node.NodeId, Node.KafkaPort), (node.Id, node.Port));
        Assert.Equal(Node.NodeId, cluster.Controller.Id);
        Assert.False(string.IsNullOrEmpty(cluster.ClusterId));
    }
    /// <summary>
    /// One node, so each partition's only replica is its preferred one and leads: a preferred election is not needed, nor
    /// an unclean one (a leader runs). The wrong arguments: a partition that does not exist.
    /// </summary>
    [Fact]
    public async Task ElectLeaders_answers_ELECTION_NOT_NEEDED_where_the_preferred_replica_leads_and_refuses_an_unknown_partition()
    {
        await CreateTopicAsync("admin-elect", 2);
        await LeadersAsync("admin-elect", 2);

        var preferred = await ElectAsync(ElectionType.Preferred, new TopicPartition("admin-elect", 0), new TopicPartition("admin-elect", 1));
        Assert.Equal([ErrorCode.ElectionNotNeeded, ErrorCode.ElectionNotNeeded], preferred.OrderBy(p => p.Partition.Value).Select(p => p.Error.Code));
        var unclean = await ElectAsync(ElectionType.Unclean, new TopicPartition("admin-elect", 0));
        Assert.Equal(ErrorCode.ElectionNotNeeded, unclean.Single().Error.Code);

        var unknown = await ElectAsync(ElectionType.Preferred, new TopicPartition("admin-elect", 9), new TopicPartition("admin-no-such-topic", 0));
        Assert.All(unknown, p => Assert.Equal(ErrorCode.UnknownTopicOrPart, p.Error.Code));
    }

    /// <summary>librdkafka reports every partition's result; any error (ELECTION_NOT_NEEDED too) comes as an exception carrying them all.</summary>
    private async Task<List<TopicPartitionError>> ElectAsync(ElectionType type, params TopicPartition[] partitions)
    {
        try
        {
            return (await Admin.ElectLeadersAsync(type, partitions)).TopicPartitions;
        }
        catch (ElectLeadersException e)
        {
            return e.Results.TopicPartitions;
        }
    }
}
