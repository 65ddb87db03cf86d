using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Monitoring;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Server.Tests.Monitoring;

/// <summary>The event feed's rules on plain snapshots with a fake clock: which differences become lines, and how they read.</summary>
public sealed class ClusterEventLogTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 6, 1, 0, 0, TimeSpan.Zero));

    private static NodeView Node(int id, string state = "Up") => new(id, $"127.0.0.1:919{id}", ["worker"], state);

    private static PartitionView Partition(string topic, int p, int leader, int epoch, int[] isr, int[]? replicas = null) =>
        new(topic, p, leader, epoch, replicas ?? [1, 2, 3], isr, [], 10, 10, null);

    private static ClusterSnapshot Snapshot(NodeView[] nodes, PartitionView[] partitions, GroupView[]? groups = null) =>
        new(DateTimeOffset.UnixEpoch, nodes, partitions, groups ?? []);

    private static readonly NodeView[] ThreeUp = [Node(1), Node(2), Node(3)];

    [Fact]
    public void First_snapshot_is_the_baseline_and_reports_nothing()
    {
        var log = new ClusterEventLog(_clock);
        Assert.Empty(log.Observe(Snapshot(ThreeUp, [Partition("orders", 0, 1, 1, [1, 2, 3])])));
        Assert.Empty(log.Recent);
    }

    [Fact]
    public void Unchanged_snapshot_reports_nothing()
    {
        var log = new ClusterEventLog(_clock);
        var s = Snapshot(ThreeUp, [Partition("orders", 0, 1, 1, [1, 2, 3])]);
        log.Observe(s);
        Assert.Empty(log.Observe(s with { At = DateTimeOffset.UnixEpoch.AddSeconds(1) }));
    }

    [Fact]
    public void Node_states_read_as_unreachable_down_and_back()
    {
        var log = new ClusterEventLog(_clock);
        log.Observe(Snapshot(ThreeUp, []));
        Assert.Equal("node 2 unreachable", Assert.Single(log.Observe(Snapshot([Node(1), Node(2, "Unreachable"), Node(3)], []))).Text);
        Assert.Equal("node 2 down (removed from the cluster)", Assert.Single(log.Observe(Snapshot([Node(1), Node(2, "Down"), Node(3)], []))).Text);
        Assert.Equal("node 2 back up at 127.0.0.1:9192", Assert.Single(log.Observe(Snapshot(ThreeUp, []))).Text);
    }

    [Fact]
    public void A_new_node_joins_and_a_vanished_one_leaves()
    {
        var log = new ClusterEventLog(_clock);
        log.Observe(Snapshot([Node(1), Node(2)], []));
        var changes = log.Observe(Snapshot([Node(1), Node(3)], []));
        Assert.Equal(["node 3 joined (Up) at 127.0.0.1:9193", "node 2 left the cluster"], changes.Select(c => c.Text));
    }

    [Fact]
    public void Leader_move_names_old_and_new_leader_and_the_epoch()
    {
        var log = new ClusterEventLog(_clock);
        log.Observe(Snapshot(ThreeUp, [Partition("orders", 3, 2, 4, [1, 2, 3])]));
        var changes = log.Observe(Snapshot(ThreeUp, [Partition("orders", 3, 1, 5, [1, 3])]));
        Assert.Contains(changes, c => c.Text == "orders/3 leader 2 → 1, epoch 5" && c.Subject == "orders/3");
        Assert.Contains(changes, c => c.Text == "node 2 left ISR of orders/3");
    }

    [Fact]
    public void A_node_rejoining_many_ISRs_is_one_line()
    {
        var log = new ClusterEventLog(_clock);
        log.Observe(Snapshot(ThreeUp, [Partition("orders", 0, 1, 5, [1, 3]), Partition("orders", 1, 3, 5, [1, 3]), Partition("orders", 2, 1, 2, [1, 2, 3])]));
        var changes = log.Observe(Snapshot(ThreeUp, [Partition("orders", 0, 1, 5, [1, 3, 2]), Partition("orders", 1, 3, 5, [1, 3, 2]), Partition("orders", 2, 1, 2, [1, 2, 3])]));
        Assert.Equal("node 2 back in ISR of orders/0, orders/1", Assert.Single(changes).Text);
    }

    [Fact]
    public void Leaderless_partition_and_re_election_of_the_same_leader_are_reported()
    {
        var log = new ClusterEventLog(_clock);
        log.Observe(Snapshot(ThreeUp, [Partition("t", 0, 2, 1, [2]), Partition("t", 1, 1, 1, [1])]));
        var changes = log.Observe(Snapshot(ThreeUp, [Partition("t", 0, -1, 1, [2]), Partition("t", 1, 1, 2, [1])]));
        Assert.Equal(["t/0 has no leader (was node 2)", "t/1 leader 1 re-elected, epoch 2"], changes.Select(c => c.Text));
    }

    [Fact]
    public void Topics_created_and_deleted_and_replicas_reassigned()
    {
        var log = new ClusterEventLog(_clock);
        log.Observe(Snapshot(ThreeUp, [Partition("old", 0, 1, 1, [1, 2, 3])]));
        var changes = log.Observe(Snapshot(ThreeUp, [Partition("new", 0, 1, 1, [1]), Partition("new", 1, 2, 1, [2])]));
        Assert.Equal(["topic new created (2 partitions)", "topic old deleted"], changes.Select(c => c.Text));
        changes = log.Observe(Snapshot(ThreeUp, [Partition("new", 0, 1, 1, [1], [1, 4]), Partition("new", 1, 2, 1, [2])]));
        Assert.Contains(changes, c => c.Text == "new/0 replicas 1,2,3 → 1,4");
    }

    [Fact]
    public void Group_rebalance_counts_members_that_came_and_went()
    {
        var log = new ClusterEventLog(_clock);
        static GroupView Group(int generation, string state, params string[] members) =>
            new("billing", state, "range", generation, members.Select(m => new MemberView(m, "c", [])).ToList(), []);
        log.Observe(Snapshot(ThreeUp, [], [Group(3, "Stable", "a", "b")]));
        Assert.Equal("group billing PreparingRebalance (was Stable)", Assert.Single(log.Observe(Snapshot(ThreeUp, [], [Group(3, "PreparingRebalance", "a", "b")]))).Text);
        Assert.Equal("group billing rebalanced: generation 3 → 4, 2 members (+1 -1)", Assert.Single(log.Observe(Snapshot(ThreeUp, [], [Group(4, "Stable", "a", "c")]))).Text);
        Assert.Equal("group billing gone", Assert.Single(log.Observe(Snapshot(ThreeUp, []))).Text);
    }

    [Fact]
    public void Changes_carry_the_clock_time_and_increasing_sequence_and_only_the_newest_are_kept()
    {
        var log = new ClusterEventLog(_clock, capacity: 2);
        log.Observe(Snapshot(ThreeUp, []));
        log.Observe(Snapshot([Node(1), Node(2, "Unreachable"), Node(3)], []));
        _clock.Advance(TimeSpan.FromSeconds(5));
        log.Observe(Snapshot([Node(1), Node(2, "Unreachable"), Node(3, "Unreachable")], []));
        log.Observe(Snapshot(ThreeUp, []));
        var recent = log.Recent;
        Assert.Equal(2, recent.Count);
        Assert.True(recent[0].Sequence < recent[1].Sequence);
        Assert.Equal(_clock.GetUtcNow(), recent[1].At);
        Assert.Equal(["node 2 reachable again", "node 3 reachable again"], recent.Select(c => c.Text));
    }

    [Fact]
    public void Builder_marks_assigned_nodes_that_are_no_members_as_down_and_computes_lag()
    {
        var metadata = new MetadataResponse(
            [new BrokerInfo("akka.tcp://broker@127.0.0.1:9190", "127.0.0.1", 9190, ["seed"], "Up") { NodeId = 1 }],
            [new TopicMetadata("orders", "id", ErrorCode.None, null, 2, new Dictionary<string, string>(),
                [new PartitionMetadata(0, "a", 0, 100, ErrorCode.None, null) { LeaderId = 1, LeaderEpoch = 3, Replicas = [1, 2], Isr = [1], OfflineReplicas = [2], HighWatermark = 100 }])]);
        var group = new DescribeGroupResponse(ErrorCode.None, null, "billing", "Stable", "consumer", "range", 2,
            [new GroupMemberDescription("m1", "c1", [new TopicPartition("orders", 0)])], [new CommittedOffset("orders", 0, 40, null)]);
        var s = SnapshotBuilder.Build(metadata, [group], _clock.GetUtcNow());
        Assert.Equal([(1, "Up"), (2, "Down")], s.Nodes.Select(n => (n.Id, n.State)));
        var p = Assert.Single(s.Partitions);
        Assert.True(p.UnderReplicated);
        Assert.False(p.Offline);
        var g = Assert.Single(s.Groups);
        Assert.Equal(60, g.TotalLag);
        Assert.Equal("m1", Assert.Single(g.Partitions).Owner);
    }
}
