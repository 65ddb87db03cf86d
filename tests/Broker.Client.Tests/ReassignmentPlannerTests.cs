using Broker.Protocol;
using Broker.Protocol.Messages;
using Xunit;

namespace Broker.Client.Tests;

public sealed class ReassignmentPlannerTests
{
    private static TopicMetadata Topic(string name, params int[][] replicas) =>
        new(name, "id-" + name, ErrorCode.None, null, (short)replicas[0].Length, new Dictionary<string, string>(),
            replicas.Select((r, p) => new PartitionMetadata(p, "", 0, 0, ErrorCode.None, null) { Replicas = r }).ToList());

    [Fact]
    public void Every_replica_on_the_gone_node_moves_to_the_least_loaded_node_without_a_copy_keeping_its_place()
    {
        var topics = new[] { Topic("a", [1, 2], [2, 3], [3, 1]), Topic("b", [2, 4]) };

        var moves = ReassignmentPlanner.ReplaceNode(topics, 2, [1, 3, 4]);

        Assert.Equal(3, moves.Count);
        Assert.All(moves, m => Assert.DoesNotContain(2, m.Replicas));
        var a0 = moves.Single(m => m.Topic == "a" && m.Partition == 0);
        Assert.Equal(1, a0.Replicas[0]);               // the preferred leader stays first
        Assert.Equal(4, a0.Replicas[1]);               // node 4 held one replica, nodes 1 and 3 two each
        var a1 = moves.Single(m => m.Topic == "a" && m.Partition == 1);
        Assert.Equal(3, a1.Replicas[1]);
        Assert.NotEqual(3, a1.Replicas[0]);            // never two copies on one node
        Assert.DoesNotContain(moves, m => m.Topic == "a" && m.Partition == 2); // no replica on node 2
    }

    [Fact]
    public void An_explicit_destination_is_used_and_a_node_that_already_has_a_copy_is_refused()
    {
        var topics = new[] { Topic("a", [1, 2], [2, 3]) };
        Assert.All(ReassignmentPlanner.ReplaceNode(topics, 2, [1, 3, 4], onlyTo: 4), m => Assert.Contains(4, m.Replicas));
        var error = Assert.Throws<InvalidOperationException>(() => ReassignmentPlanner.ReplaceNode(topics, 2, [1, 3], onlyTo: 3));
        Assert.Contains("already holds a replica", error.Message);
    }

    [Fact]
    public void With_no_node_left_to_take_the_replica_the_plan_says_so()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ReassignmentPlanner.ReplaceNode([Topic("a", [1, 2])], 2, [1]));
        Assert.Contains("start another node", error.Message);
    }
}
