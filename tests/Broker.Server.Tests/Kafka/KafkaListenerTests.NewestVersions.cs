using Broker.Kafka.Messages;
using Xunit;

namespace Broker.Server.Tests.Kafka;

// The newest versions the listener advertises (Kafka 4.x's, issue 15), where they differ from the older ones in
// what the node does, not only in bytes: topics named by id, batched coordinator and offset lookups, the new
// ListOffsets specs, group listing filters.
public sealed partial class KafkaListenerTests
{
    [Fact]
    public async Task Fetch_v17_and_Metadata_v12_name_topics_by_id_and_an_unknown_id_gets_UNKNOWN_TOPIC_ID()
    {
        CreateTopic("by-id", 1);
        Assert.Equal(0, Produce("by-id", 0, Batch(3)).BaseOffset);
        using var socket = await ConnectAsync();

        await socket.SendAsync(Frame(MetadataRequest.Api, 12, 1, new MetadataRequest { Topics = [new() { Name = "by-id" }] }));
        var (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
        var topicId = Parse(body, 12, MetadataResponse.Read).Topics.Single().TopicId;
        Assert.NotEqual(Guid.Empty, topicId);

        // Metadata by id alone (v12: a null name) answers the name.
        var unknownId = Guid.NewGuid();
        await socket.SendAsync(Frame(MetadataRequest.Api, 12, 2, new MetadataRequest { Topics = [new() { TopicId = topicId, Name = null }, new() { TopicId = unknownId, Name = null }] }));
        (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
        var byId = Parse(body, 12, MetadataResponse.Read).Topics;
        Assert.Equal(("by-id", (short)0), (byId.Single(t => t.TopicId == topicId).Name, byId.Single(t => t.TopicId == topicId).ErrorCode));
        Assert.Equal(100, byId.Single(t => t.TopicId == unknownId).ErrorCode);

        await socket.SendAsync(Frame(FetchRequest.Api, 17, 3, new FetchRequest
        {
            MaxWaitMs = 0, MinBytes = 1, MaxBytes = 1 << 20, SessionEpoch = -1,
            Topics =
            [
                new() { TopicId = topicId, Partitions = [new() { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] },
                new() { TopicId = unknownId, Partitions = [new() { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] },
            ],
        }));
        (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
        var fetched = Parse(body, 17, FetchResponse.Read).Responses;
        Assert.Equal([topicId, unknownId], fetched.Select(t => t.TopicId));
        var known = fetched[0].Partitions.Single();
        Assert.Equal((0, 3L), (known.ErrorCode, known.HighWatermark));
        Assert.Equal(["v0", "v1", "v2"], Records(known.Records).Select(r => Text(r.Value)));
        Assert.Equal(100, fetched[1].Partitions.Single().ErrorCode); // UNKNOWN_TOPIC_ID
    }

    [Fact]
    public async Task DeleteTopics_v6_deletes_by_id_and_an_unknown_id_gets_UNKNOWN_TOPIC_ID()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(CreateTopicsRequest.Api, 7, 1, new CreateTopicsRequest
        {
            Topics = [new() { Name = "doomed", NumPartitions = 2, ReplicationFactor = -1 }],
            TimeoutMs = 10000,
        }));
        var (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
        // v5+ answer what was created, v7+ its id.
        var created = Parse(body, 7, CreateTopicsResponse.Read).Topics.Single();
        Assert.Equal((0, 2, (short)1), (created.ErrorCode, created.NumPartitions, created.ReplicationFactor));
        Assert.NotEqual(Guid.Empty, created.TopicId);

        var unknownId = Guid.NewGuid();
        await socket.SendAsync(Frame(DeleteTopicsRequest.Api, 6, 2, new DeleteTopicsRequest
        {
            Topics = [new() { Name = null, TopicId = created.TopicId }, new() { Name = null, TopicId = unknownId }],
            TimeoutMs = 10000,
        }));
        (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
        var results = Parse(body, 6, DeleteTopicsResponse.Read).Responses;
        Assert.Equal(("doomed", (short)0), (results[0].Name, results[0].ErrorCode));
        Assert.Equal((unknownId, (short)100), (results[1].TopicId, results[1].ErrorCode));

        await socket.SendAsync(Frame(MetadataRequest.Api, 12, 3, new MetadataRequest { Topics = [new() { Name = "doomed" }] }));
        (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
        Assert.Equal(3, Parse(body, 12, MetadataResponse.Read).Topics.Single().ErrorCode); // UNKNOWN_TOPIC_OR_PARTITION: gone
    }

    [Fact]
    public async Task FindCoordinator_v6_answers_each_key_and_OffsetFetch_v9_answers_several_groups()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(FindCoordinatorRequest.Api, 6, 1, new FindCoordinatorRequest { KeyType = 0, CoordinatorKeys = ["g1", "g2"] }));
        var (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
        var coordinators = Parse(body, 6, FindCoordinatorResponse.Read).Coordinators;
        Assert.Equal(["g1", "g2"], coordinators.Select(c => c.Key));
        Assert.All(coordinators, c => Assert.Equal((0, "127.0.0.1", Listener.BoundPort), (c.ErrorCode, c.Host, c.Port)));

        await socket.SendAsync(Frame(FindCoordinatorRequest.Api, 6, 2, new FindCoordinatorRequest { KeyType = 1, CoordinatorKeys = ["tx"] }));
        (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
        Assert.Equal(15, Parse(body, 6, FindCoordinatorResponse.Read).Coordinators.Single().ErrorCode); // no transaction coordinator

        await socket.SendAsync(Frame(OffsetCommitRequest.Api, 9, 3, new OffsetCommitRequest
        {
            GroupId = "batched-a", GenerationIdOrMemberEpoch = -1, MemberId = "",
            Topics = [new() { Name = "t", Partitions = [new() { PartitionIndex = 0, CommittedOffset = 42, CommittedMetadata = "m" }] }],
        }));
        (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
        Assert.Equal(0, Parse(body, 9, OffsetCommitResponse.Read).Topics.Single().Partitions.Single().ErrorCode);

        await socket.SendAsync(Frame(OffsetFetchRequest.Api, 9, 4, new OffsetFetchRequest
        {
            Groups =
            [
                new() { GroupId = "batched-a", Topics = [new() { Name = "t", PartitionIndexes = [0, 1] }] },
                new() { GroupId = "batched-never", Topics = null }, // null: every committed partition, here none
            ],
        }));
        (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
        var groups = Parse(body, 9, OffsetFetchResponse.Read).Groups;
        Assert.Equal(["batched-a", "batched-never"], groups.Select(g => g.GroupId));
        Assert.Equal([(42L, "m"), (-1L, "")], groups[0].Topics.Single().Partitions.Select(p => (p.CommittedOffset, p.Metadata)));
        Assert.Equal((0, 0), (groups[1].ErrorCode, groups[1].Topics.Count));
    }

    [Fact]
    public async Task ListOffsets_v9_finds_the_largest_timestamp_the_local_log_start_and_no_tiered_offset()
    {
        CreateTopic("specs", 1);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 10_000;
        Assert.Equal(0, Produce("specs", 0, Batch(3, timestamp: now + 100)).BaseOffset); // offsets 0-2, the largest timestamp at 2
        Assert.Equal(3, Produce("specs", 0, Batch(2, timestamp: now)).BaseOffset);       // offsets 3-4, older timestamps
        using var socket = await ConnectAsync();

        async Task<(short Error, long Offset, long Timestamp)> ListAsync(short version, long spec)
        {
            await socket.SendAsync(Frame(ListOffsetsRequest.Api, version, 1, new ListOffsetsRequest
            {
                ReplicaId = -1,
                Topics = [new() { Name = "specs", Partitions = [new() { PartitionIndex = 0, Timestamp = spec }] }],
            }));
            var (_, body) = await ReadResponseAsync(socket, flexibleHeader: version >= 6);
            var p = Parse(body, version, ListOffsetsResponse.Read).Topics.Single().Partitions.Single();
            return (p.ErrorCode, p.Offset, p.Timestamp);
        }

        Assert.Equal(((short)0, 2L, now + 102), await ListAsync(9, -3)); // KIP-734: the record with the largest timestamp
        Assert.Equal(((short)0, 0L), ((await ListAsync(9, -4)).Error, (await ListAsync(9, -4)).Offset)); // KIP-405: every offset is local
        Assert.Equal(((short)0, -1L), ((await ListAsync(9, -5)).Error, (await ListAsync(9, -5)).Offset)); // KIP-1005: nothing tiered
        Assert.Equal(((short)0, 5L), ((await ListAsync(10, -1)).Error, (await ListAsync(10, -1)).Offset));
        Assert.Equal(42, (await ListAsync(5, -3)).Error); // before v7 -3 is no spec: INVALID_REQUEST
    }

    [Fact]
    public async Task OffsetForLeaderEpoch_v4_answers_where_the_current_epoch_ends_and_fences_an_older_current_epoch()
    {
        CreateTopic("epochs", 1);
        Assert.Equal(0, Produce("epochs", 0, Batch(4)).BaseOffset);
        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(MetadataRequest.Api, 12, 1, new MetadataRequest { Topics = [new() { Name = "epochs" }] }));
        var (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
        var epoch = Parse(body, 12, MetadataResponse.Read).Topics.Single().Partitions.Single().LeaderEpoch;
        Assert.True(epoch >= 0);

        async Task<OffsetForLeaderEpochResponse.EpochEndOffset> AskAsync(string topic, int current, int asked)
        {
            await socket.SendAsync(Frame(OffsetForLeaderEpochRequest.Api, 4, 2, new OffsetForLeaderEpochRequest
            {
                ReplicaId = -1,
                Topics = [new() { Topic = topic, Partitions = [new() { Partition = 0, CurrentLeaderEpoch = current, LeaderEpoch = asked }] }],
            }));
            var (_, answer) = await ReadResponseAsync(socket, flexibleHeader: true);
            return Parse(answer, 4, OffsetForLeaderEpochResponse.Read).Topics.Single().Partitions.Single();
        }

        var current = await AskAsync("epochs", epoch, epoch);
        Assert.Equal((0, epoch, 4L), (current.ErrorCode, current.LeaderEpoch, current.EndOffset)); // the newest epoch ends at the log end
        var later = await AskAsync("epochs", -1, epoch + 3);
        Assert.Equal((epoch, 4L), (later.LeaderEpoch, later.EndOffset)); // a later epoch: the largest one at or below it
        if (epoch > 0) Assert.Equal(74, (await AskAsync("epochs", epoch - 1, epoch)).ErrorCode); // FENCED_LEADER_EPOCH
        Assert.Equal(6, (await AskAsync("epochs", epoch + 1, epoch)).ErrorCode); // NOT_LEADER_OR_FOLLOWER: the client knows a newer leader
        Assert.Equal(3, (await AskAsync("no-such-topic", -1, 0)).ErrorCode);
    }

    [Fact]
    public async Task DescribeProducers_v0_lists_a_partitions_idempotent_producers_with_their_last_sequence()
    {
        CreateTopic("producers", 1);
        var pid = Request<Broker.Protocol.Messages.InitProducerIdResponse>(new Broker.Protocol.Messages.InitProducerIdRequest()).ProducerId;
        var first = Batch(3);
        Broker.Protocol.Records.RecordBatch.SetProducer(first, pid, 2, 0);
        var second = Batch(2);
        Broker.Protocol.Records.RecordBatch.SetProducer(second, pid, 2, 3);
        Assert.Equal(0, Produce("producers", 0, first).BaseOffset);
        Assert.Equal(3, Produce("producers", 0, second).BaseOffset);
        Assert.Equal(5, Produce("producers", 0, Batch(1)).BaseOffset); // not idempotent: not listed

        using var socket = await ConnectAsync();
        await socket.SendAsync(Frame(DescribeProducersRequest.Api, 0, 1, new DescribeProducersRequest
        {
            Topics = [new() { Name = "producers", PartitionIndexes = [0, 7] }],
        }));
        var (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
        var partitions = Parse(body, 0, DescribeProducersResponse.Read).Topics.Single().Partitions;
        var producer = Assert.Single(partitions[0].ActiveProducers);
        Assert.Equal((pid, 2, 4), (producer.ProducerId, producer.ProducerEpoch, producer.LastSequence));
        Assert.True(producer.LastTimestamp > 0);
        Assert.Equal(-1, producer.CurrentTxnStartOffset);
        Assert.Equal(3, partitions[1].ErrorCode); // no partition 7
    }

    [Fact]
    public async Task ListGroups_v5_filters_by_state_and_type_and_lists_a_KIP_848_group_as_consumer()
    {
        CreateTopic("listed-topic", 1);
        using var socket = await ConnectAsync();
        // A KIP-848 consumer group: one member joined with ConsumerGroupHeartbeat.
        await socket.SendAsync(Frame(ConsumerGroupHeartbeatRequest.Api, 0, 9, new ConsumerGroupHeartbeatRequest
        {
            GroupId = "listed-consumer", MemberId = Guid.NewGuid().ToString(), MemberEpoch = 0, RebalanceTimeoutMs = 60000,
            SubscribedTopicNames = ["listed-topic"], TopicPartitions = [],
        }));
        var (_, joinedBody) = await ReadResponseAsync(socket, flexibleHeader: true);
        Assert.Equal(0, Parse(joinedBody, 0, ConsumerGroupHeartbeatResponse.Read).ErrorCode);
        // A group with committed offsets and no members is Empty.
        await socket.SendAsync(Frame(OffsetCommitRequest.Api, 9, 1, new OffsetCommitRequest
        {
            GroupId = "listed-empty", GenerationIdOrMemberEpoch = -1, MemberId = "",
            Topics = [new() { Name = "t", Partitions = [new() { PartitionIndex = 0, CommittedOffset = 1 }] }],
        }));
        await ReadResponseAsync(socket, flexibleHeader: true);

        async Task<IReadOnlyList<ListGroupsResponse.ListedGroup>> ListAsync(List<string> states, List<string> types)
        {
            await socket.SendAsync(Frame(ListGroupsRequest.Api, 5, 2, new ListGroupsRequest { StatesFilter = states, TypesFilter = types }));
            var (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
            var response = Parse(body, 5, ListGroupsResponse.Read);
            Assert.Equal(0, response.ErrorCode);
            return response.Groups;
        }

        var all = await ListAsync([], []);
        var listed = Assert.Single(all, g => g.GroupId == "listed-empty");
        Assert.Equal(("Empty", "classic"), (listed.GroupState, listed.GroupType));
        var consumer = Assert.Single(all, g => g.GroupId == "listed-consumer");
        Assert.Equal(("consumer", "consumer"), (consumer.GroupType, consumer.ProtocolType));
        Assert.Contains(await ListAsync(["empty"], ["Classic"]), g => g.GroupId == "listed-empty"); // case-insensitive, as Kafka
        Assert.DoesNotContain(await ListAsync(["Stable"], []), g => g.GroupId == "listed-empty");
        var consumersOnly = await ListAsync([], ["Consumer"]);
        Assert.Contains(consumersOnly, g => g.GroupId == "listed-consumer");
        Assert.DoesNotContain(consumersOnly, g => g.GroupId == "listed-empty");
        Assert.DoesNotContain(await ListAsync([], ["classic"]), g => g.GroupId == "listed-consumer");
        Assert.Empty(await ListAsync([], ["share"])); // a type no group here has
    }
    [Fact]
    public async Task ElectLeaders_v2_answers_ELECTION_NOT_NEEDED_for_a_partition_its_only_replica_leads_and_refuses_an_unknown_type()
    {
        CreateTopic("elect", 1);
        Produce("elect", 0, Batch(1)); // the partition has a leader
        using var socket = await ConnectAsync();

        await socket.SendAsync(Frame(ElectLeadersRequest.Api, 2, 1, new ElectLeadersRequest
        {
            ElectionType = 0, TopicPartitions = [new() { Topic = "elect", Partitions = [0, 5] }], TimeoutMs = 10000,
        }));
        var (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
        var results = Parse(body, 2, ElectLeadersResponse.Read).ReplicaElectionResults.Single().PartitionResults;
        Assert.Equal([(0, (short)84), (5, (short)3)], results.Select(r => (r.PartitionId, r.ErrorCode))); // ELECTION_NOT_NEEDED, UNKNOWN_TOPIC_OR_PARTITION
        Assert.Contains("already leads", results[0].ErrorMessage);

        await socket.SendAsync(Frame(ElectLeadersRequest.Api, 2, 2, new ElectLeadersRequest { ElectionType = 7, TopicPartitions = null }));
        (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
        Assert.Equal(42, Parse(body, 2, ElectLeadersResponse.Read).ErrorCode); // INVALID_REQUEST
    }
}
