using Broker.Server.Kafka;
using Xunit;

namespace Broker.Server.Tests.Kafka;

/// <summary>ElectLeaders' rules (KIP-460) as Kafka's controller applies them: when an election is needed, and when it cannot happen.</summary>
public sealed class LeaderElectionsTests
{
    private static bool AllAlive(int node) => true;

    [Fact]
    public void Preferred_is_not_needed_when_the_first_replica_leads()
    {
        var decision = ElectionDecision.For(ElectionType.Preferred, leader: 1, replicas: [1, 2, 3], isr: [1, 2, 3], AllAlive);
        Assert.IsType<ElectionDecision.NotNeeded>(decision);
    }

    [Fact]
    public void Preferred_moves_the_leader_to_the_first_replica_when_it_is_in_sync_and_alive()
    {
        var decision = ElectionDecision.For(ElectionType.Preferred, leader: 2, replicas: [1, 2, 3], isr: [1, 2, 3], AllAlive);
        Assert.Equal(1, Assert.IsType<ElectionDecision.MoveTo>(decision).Replica);
    }

    [Fact]
    public void Preferred_is_PREFERRED_LEADER_NOT_AVAILABLE_when_the_first_replica_is_out_of_sync_or_down()
    {
        var outOfSync = Assert.IsType<ElectionDecision.NotPossible>(ElectionDecision.For(ElectionType.Preferred, 2, [1, 2, 3], [2, 3], AllAlive));
        Assert.Equal(KafkaErrors.PreferredLeaderNotAvailable, outOfSync.ErrorCode);
        Assert.Contains("not in the ISR [2,3]", outOfSync.Message);

        var down = Assert.IsType<ElectionDecision.NotPossible>(ElectionDecision.For(ElectionType.Preferred, 2, [1, 2, 3], [1, 2, 3], node => node != 1));
        Assert.Equal(KafkaErrors.PreferredLeaderNotAvailable, down.ErrorCode);
        Assert.Contains("start node 1", down.Message);
    }

    [Fact]
    public void Unclean_is_not_needed_while_a_leader_runs_and_picks_the_first_live_replica_when_none_does()
    {
        Assert.IsType<ElectionDecision.NotNeeded>(ElectionDecision.For(ElectionType.Unclean, 2, [1, 2, 3], [2], AllAlive));
        var move = Assert.IsType<ElectionDecision.MoveTo>(ElectionDecision.For(ElectionType.Unclean, -1, [1, 2, 3], [1], node => node != 1));
        Assert.Equal(2, move.Replica); // out of sync, but alive
    }

    [Fact]
    public void Unclean_is_ELIGIBLE_LEADERS_NOT_AVAILABLE_when_no_replica_is_alive()
    {
        var none = Assert.IsType<ElectionDecision.NotPossible>(ElectionDecision.For(ElectionType.Unclean, -1, [1, 2], [1], _ => false));
        Assert.Equal(KafkaErrors.EligibleLeadersNotAvailable, none.ErrorCode);
    }

    [Fact]
    public async Task Todays_cluster_refuses_to_move_a_running_leader_and_says_what_works_instead()
    {
        var preferred = await new NoLeaderMoves().ElectAsync("orders", 0, 1, ElectionType.Preferred);
        Assert.Equal(KafkaErrors.PreferredLeaderNotAvailable, preferred!.Value.ErrorCode);
        Assert.Contains("partitions reassign", preferred.Value.Message);
        var unclean = await new NoLeaderMoves().ElectAsync("orders", 0, 2, ElectionType.Unclean);
        Assert.Equal(KafkaErrors.EligibleLeadersNotAvailable, unclean!.Value.ErrorCode);
        Assert.Contains("unclean.leader.election.enable=true", unclean.Value.Message);
    }
}
