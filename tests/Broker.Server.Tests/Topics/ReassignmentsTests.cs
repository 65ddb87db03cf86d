using Broker.Protocol;
using Broker.Server.Metadata;
using Broker.Server.Partitions;
using Broker.Server.Topics;
using Xunit;

namespace Broker.Server.Tests.Topics;

/// <summary>The two phases of a replica move, and where its leader may run meanwhile.</summary>
public sealed class ReassignmentsTests
{
    private static readonly TopicDescriptor Topic = new("t", "id1", 2, 2, new Dictionary<string, string>(), [[1, 2], [2, 3]]);

    private static PartitionStateTable States(int partition, int leader, params int[] isr) =>
        PartitionStateTable.Empty.Put(PartitionStateTable.KeyOf("id1", partition), new PartitionState(3, 1, leader, [.. isr]));

    [Fact]
    public void Begin_adds_the_target_before_the_replicas_it_removes()
    {
        var moving = Reassignments.Begin(Topic, 0, [1, 4]);
        Assert.Equal<int>([1, 4, 2], moving.ReplicasOf(0));
        Assert.Equal<int>([1, 4], moving.TargetOf(0));
        Assert.Equal<int>([4], moving.Reassigning[0].Adding);
        Assert.Equal<int>([2], Reassignments.Removing(moving, 0));
        Assert.Equal<int>([2, 3], moving.ReplicasOf(1)); // the other partition stays
        Assert.False(moving.IsReassigning(1));
    }

    [Fact]
    public void The_same_nodes_in_another_order_only_change_the_preferred_leader()
    {
        var reordered = Reassignments.Begin(Topic, 0, [2, 1]);
        Assert.Equal<int>([2, 1], reordered.ReplicasOf(0));
        Assert.False(reordered.IsReassigning(0));
    }

    [Fact]
    public void A_move_completes_only_when_every_target_replica_is_in_sync_under_a_target_leader()
    {
        var moving = Reassignments.Begin(Topic, 0, [1, 4]);
        Assert.Null(Reassignments.TryComplete(moving, PartitionStateTable.Empty, out _));       // no state yet
        Assert.Null(Reassignments.TryComplete(moving, States(0, 1, 1, 2), out _));             // node 4 still copying
        Assert.Null(Reassignments.TryComplete(Reassignments.Begin(Topic, 0, [3, 4]), States(0, 1, 1, 2, 3, 4), out _)); // leader 1 is being removed

        var done = Reassignments.TryComplete(moving, States(0, 1, 1, 2, 4), out var completed);
        Assert.NotNull(done);
        Assert.Equal<int>([0], completed);
        Assert.Equal<int>([1, 4], done.ReplicasOf(0));
        Assert.Empty(done.Reassigning);
    }

    [Fact]
    public void Validation_refuses_dead_nodes_repeats_wrong_counts_and_a_second_move()
    {
        bool Alive(int id) => id is 1 or 2 or 3 or 4;
        Assert.Equal(ErrorCode.None, Reassignments.Validate(Topic, 0, [1, 4], Alive).Error);
        Assert.Equal(ErrorCode.None, Reassignments.Validate(Topic, 0, [2, 1], _ => false).Error); // current replicas may be down
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, Reassignments.Validate(Topic, 0, [1, 9], Alive).Error);
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, Reassignments.Validate(Topic, 0, [4, 4], Alive).Error);
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, Reassignments.Validate(Topic, 0, [1, 3, 4], Alive).Error);
        Assert.Equal(ErrorCode.UnknownPartition, Reassignments.Validate(Topic, 5, [1, 4], Alive).Error);
        var moving = Reassignments.Begin(Topic, 0, [1, 4]);
        Assert.Equal(ErrorCode.ReassignmentInProgress, Reassignments.Validate(moving, 0, [1, 3], Alive).Error);
    }

    [Fact]
    public void While_moving_the_leader_goes_to_an_in_sync_target_replica_once_there_is_one()
    {
        var moving = Reassignments.Begin(Topic, 0, [3, 4]); // replicas [3,4,1,2]
        var copying = States(0, 1, 1, 2).Find("id1", 0);
        Assert.Equal(1, LeaderChoice.For(moving, 0, copying, false, _ => true, out _)); // no target replica has the data yet
        var caughtUp = States(0, 1, 1, 2, 4).Find("id1", 0);
        Assert.Equal(4, LeaderChoice.For(moving, 0, caughtUp, false, _ => true, out _));
        Assert.Equal(1, LeaderChoice.For(moving, 0, caughtUp, false, id => id != 4, out _)); // 4 down: stay on an in-sync replica
    }

    [Fact]
    public void A_leader_outside_the_replicas_is_not_kept()
    {
        var state = new PartitionState(2, 0, 9, [9, 2]);
        Assert.Equal(2, LeaderChoice.Choose(state, [1, 2], false, _ => true, out _));
    }
}
