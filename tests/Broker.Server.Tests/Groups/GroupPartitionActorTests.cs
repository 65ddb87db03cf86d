using Akka.Actor;
using Akka.TestKit;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Server.Groups;
using Broker.Server.Partitions;
using Broker.Server.Serialization;
using Broker.Server.Topics;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Groups;

/// <summary>
/// The coordinators of a __consumer_offsets partition against a probe standing in for its leading replica: a group is
/// rebuilt from the partition's log read in the leader's epoch, a write names that epoch exactly and is answered only
/// once committed, and a refused write answers NotCoordinator and sends the host back to reading the partition.
/// </summary>
public sealed class GroupPartitionActorTests(ITestOutputHelper output) : NodeTestKit(output, GroupCoordinatorActorTests.FastGroups)
{
    private const int Partition = 3;
    private const int Epoch = 7;
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(10);

    private GroupSettings Settings => BrokerSettings.Create(Sys.Settings.Config).Groups;

    /// <summary>A registry that answers every GetAllTopics with <paramref name="topics"/> (none by default).</summary>
    private IActorRef Registry(params TopicDescriptor[] topics)
    {
        var registry = CreateTestProbe();
        registry.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            if (message is GetAllTopics) sender.Tell(new TopicsSnapshot(topics));
            return AutoPilot.KeepRunning;
        }));
        return registry.Ref;
    }

    private static byte[] Stored(long baseOffset, string groupId, params IServerMessage[] events)
    {
        var batch = GroupRecords.Encode(groupId, events, 0);
        RecordBatch.SetBaseOffset(batch, baseOffset);
        return batch;
    }

    private static FetchResponse Records(long highWatermark, params byte[][] batches) =>
        new(OffsetsTopic.Name, Partition, ErrorCode.None, null, highWatermark, 0, batches.SelectMany(b => b).ToArray());

    /// <summary>Starts a host whose replica leads in <see cref="Epoch"/> with <paramref name="logEnd"/>, and answers its first fetch (an empty log needs none).</summary>
    private (IActorRef Host, TestProbe Replica) Loaded(long logEnd, FetchResponse? firstFetch, GroupSettings? settings = null, long logStart = 0, TopicDescriptor[]? topics = null)
    {
        var replica = CreateTestProbe();
        var host = Sys.ActorOf(GroupPartitionActor.Props(Partition, replica.Ref, settings ?? Settings, Registry(topics ?? [])));
        var ask = replica.ExpectMsg<GetLeadership>(Long);
        replica.Reply(new Leadership(ask.RequestId, Epoch, "topic-id", logStart, logEnd, logEnd));
        if (firstFetch is null) return (host, replica);
        var fetch = replica.ExpectMsg<FetchRequest>(Long);
        Assert.Equal(logStart, fetch.Offset);
        Assert.Equal(Epoch, fetch.CurrentLeaderEpoch);
        replica.Reply(firstFetch);
        return (host, replica);
    }

    [Fact]
    public void A_group_is_rebuilt_from_its_partition_read_in_the_leaders_epoch()
    {
        var (host, _) = Loaded(logEnd: 3, Records(3,
            Stored(0, "g", new OffsetsCommitted([new CommittedOffset("t", 0, 10, null), new CommittedOffset("t", 1, 20, null)])),
            Stored(1, "other", new OffsetsCommitted([new CommittedOffset("t", 0, 99, null)])),
            Stored(2, "g", new OffsetsCommitted([new CommittedOffset("t", 0, 15, null)]))));

        host.Tell(new OffsetFetchRequest("g", null));
        var fetched = ExpectMsg<OffsetFetchResponse>(Long);
        Assert.Equal([15L, 20L], fetched.Offsets.Select(o => o.Offset).ToArray());
        host.Tell(new ListCoordinatedGroups(OffsetsTopic.Name, Partition));
        Assert.Equal(["g", "other"], ExpectMsg<ListGroupsResponse>(Long).Groups.Select(g => g.GroupId).Order().ToArray());
    }

    [Fact]
    public void A_commit_is_written_in_the_leaders_epoch_and_answered_only_once_committed()
    {
        var (host, replica) = Loaded(logEnd: 0, firstFetch: null);
        host.Tell(new OffsetCommitRequest("g", -1, "", [new OffsetCommitPartition("t", 0, 42, null)]));

        var append = replica.ExpectMsg<AppendBatch>(Long);
        Assert.Equal((OffsetsTopic.Name, Partition, (short)-1, Epoch, true), (append.Topic, append.Partition, append.Acks, append.LeaderEpoch, append.ExactLeaderEpoch));
        var events = new List<(string GroupId, IServerMessage Event)>();
        GroupRecords.Decode(append.Batch, 0, events);
        Assert.Equal(42, Assert.IsType<OffsetsCommitted>(Assert.Single(events, e => e.GroupId == "g").Event).Offsets[0].Offset);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // not before the high watermark passes it
        replica.Reply(new AppendResult(OffsetsTopic.Name, Partition, ErrorCode.None, null, 0));
        Assert.Equal(ErrorCode.None, ExpectMsg<OffsetCommitResponse>(Long).Error);
    }

    [Fact]
    public void A_refused_write_answers_NotCoordinator_and_the_partition_is_read_again()
    {
        var (host, replica) = Loaded(logEnd: 0, firstFetch: null);
        host.Tell(new OffsetCommitRequest("g", -1, "", [new OffsetCommitPartition("t", 0, 42, null)]));
        replica.ExpectMsg<AppendBatch>(Long);
        replica.Reply(new AppendResult(OffsetsTopic.Name, Partition, ErrorCode.FencedLeaderEpoch, "another epoch", -1));

        var refused = ExpectMsg<ErrorResponse>(Long);
        Assert.Equal(ErrorCode.NotCoordinator, refused.Error);
        // The host asks who leads again, and serves nothing until it has read the log back.
        replica.FishForMessage(m => m is GetLeadership, Long);
        host.Tell(new OffsetFetchRequest("g", null));
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void A_consumer_group_written_by_one_coordinator_is_served_by_the_next_one_after_a_move()
    {
        var orders = new TopicDescriptor("orders", "orders-id", 4, 1, new Dictionary<string, string>(), [[1], [1], [1], [1]]);
        // No checkpoint rounds here: a round's GetLeadership would reach the replica probe before the append on a slow machine.
        var settings = Settings with { CheckpointInterval = TimeSpan.FromHours(1) };
        var (first, replica) = Loaded(logEnd: 0, firstFetch: null, settings, topics: [orders]);
        first.Tell(new ConsumerGroupHeartbeatRequest("g", "m-1", 0, "client", 60_000, ["orders"], null, []));
        var append = replica.ExpectMsg<AppendBatch>(Long);
        replica.Reply(new AppendResult(OffsetsTopic.Name, Partition, ErrorCode.None, null, 0));
        var joined = ExpectMsg<ConsumerGroupHeartbeatResponse>(Long);
        Assert.Equal((ErrorCode.None, 1, 4), (joined.Error, joined.MemberEpoch, joined.Assignment!.Count));

        // The partition's leadership moves: the next coordinator reads the group back from what the first one wrote.
        var batch = append.Batch.ToArray();
        RecordBatch.SetBaseOffset(batch, 0);
        var (second, _) = Loaded(logEnd: 1, Records(1, batch), settings, topics: [orders]);
        second.Tell(new DescribeConsumerGroupRequest("g"));
        var described = ExpectMsg<DescribeConsumerGroupResponse>(Long);
        Assert.Equal(("Stable", 1, 1), (described.State, described.GroupEpoch, described.AssignmentEpoch));
        var member = Assert.Single(described.Members);
        Assert.Equal(("m-1", 1, 4), (member.MemberId, member.MemberEpoch, member.Assignment.Count));

        // The member carries on with its epoch: a plain heartbeat, nothing to write.
        second.Tell(new ConsumerGroupHeartbeatRequest("g", "m-1", 1, "client", -1, null, null, null));
        var carriedOn = ExpectMsg<ConsumerGroupHeartbeatResponse>(Long);
        Assert.Equal((ErrorCode.None, 1), (carriedOn.Error, carriedOn.MemberEpoch));
        // And lists it as what it is: a consumer group, not a classic one.
        second.Tell(new ListCoordinatedGroups(OffsetsTopic.Name, Partition));
        var listed = Assert.Single(ExpectMsg<ListGroupsResponse>(Long).Groups);
        Assert.Equal(("g", GroupType.Consumer, 1), (listed.GroupId, listed.Type, listed.Members));
    }

    [Fact]
    public void Every_group_writes_its_snapshot_and_the_records_below_the_oldest_are_deleted()
    {
        var settings = Settings with { CheckpointInterval = TimeSpan.FromMilliseconds(100), CheckpointAfterRecords = 10 };
        var (host, replica) = Loaded(logEnd: 3, Records(3,
            Stored(0, "g", new OffsetsCommitted([new CommittedOffset("t", 0, 10, null)])),
            Stored(1, "other", new OffsetsCommitted([new CommittedOffset("t", 0, 99, null)])),
            Stored(2, "g", new OffsetsCommitted([new CommittedOffset("t", 0, 15, null)]))), settings);

        // The host asks for the log's bounds on its timer; 30 records past the log start is over the threshold.
        var bounds = replica.ExpectMsg<GetLeadership>(Long);
        replica.Reply(new Leadership(bounds.RequestId, Epoch, "topic-id", 0, 30, 30));
        var snapshots = new List<byte[]>();
        for (var i = 0; i < 2; i++)
        {
            var append = replica.ExpectMsg<AppendBatch>(Long);
            Assert.Equal((Epoch, true), (append.LeaderEpoch, append.ExactLeaderEpoch));
            var written = new List<(string GroupId, IServerMessage Event)>();
            GroupRecords.Decode(append.Batch, 0, written);
            Assert.IsType<GroupSnapshot>(Assert.Single(written).Event);
            snapshots.Add(Stored(30 + i, written[0].GroupId, written[0].Event));
            replica.Reply(new AppendResult(OffsetsTopic.Name, Partition, ErrorCode.None, null, 30 + i));
        }
        var delete = replica.ExpectMsg<DeleteRecordsRequest>(Long);
        Assert.Equal((OffsetsTopic.Name, Partition, 30L), (delete.Topic, delete.Partition, delete.Offset));

        // A new leader whose log starts at the snapshots rebuilds the same groups from them alone.
        Sys.Stop(host);
        var (next, _) = Loaded(logEnd: 32, Records(32, [.. snapshots]), Settings, logStart: 30);
        next.Tell(new OffsetFetchRequest("g", null));
        Assert.Equal([15L], ExpectMsg<OffsetFetchResponse>(Long).Offsets.Select(o => o.Offset).ToArray());
        next.Tell(new OffsetFetchRequest("other", null));
        Assert.Equal([99L], ExpectMsg<OffsetFetchResponse>(Long).Offsets.Select(o => o.Offset).ToArray());
    }

    [Fact]
    public void A_replica_found_leading_in_another_epoch_sends_the_host_back_to_reading_the_partition()
    {
        var settings = Settings with { CheckpointInterval = TimeSpan.FromMilliseconds(100) };
        var (host, replica) = Loaded(logEnd: 0, firstFetch: null, settings);
        var bounds = replica.ExpectMsg<GetLeadership>(Long);
        replica.Reply(new Leadership(bounds.RequestId, Epoch + 2, "topic-id", 0, 0, 0)); // led elsewhere in between, then here again

        // It asks to lead again and serves nothing from the state it had until it has read the log in the new epoch.
        var ask = replica.ExpectMsg<GetLeadership>(Long);
        Assert.NotEqual(bounds.RequestId, ask.RequestId);
        host.Tell(new OffsetFetchRequest("g", null)); // waits: answered from the old state, it would name no offset
        replica.Reply(new Leadership(ask.RequestId, Epoch + 2, "topic-id", 0, 1, 1));
        Assert.Equal(Epoch + 2, replica.ExpectMsg<FetchRequest>(Long).CurrentLeaderEpoch);
        replica.Reply(Records(1, Stored(0, "g", new OffsetsCommitted([new CommittedOffset("t", 0, 544, null)]))));
        Assert.Equal([544L], ExpectMsg<OffsetFetchResponse>(Long).Offsets.Select(o => o.Offset).ToArray());
    }
}
