using Broker.Server.Controller.Quorum;
using Xunit;

namespace Broker.Server.Tests.Controller.Quorum;

public sealed class NewVoterRuleTests
{
    private static Dictionary<int, VoterLogState> Answers(params (int Id, long LastIndex)[] answers) =>
        answers.ToDictionary(a => a.Id, a => new VoterLogState(a.Id, a.LastIndex, a.LastIndex == 0));

    [Fact]
    public void Every_other_voter_answering_with_an_empty_log_is_a_new_cluster()
    {
        var decision = NewVoterRule.Decide(0, [2, 3], Answers((2, 0), (3, 0)));
        Assert.IsType<JoinNewCluster>(decision);
    }

    [Fact]
    public void A_voter_with_a_log_means_the_cluster_exists_so_this_voter_waits_to_be_caught_up()
    {
        var decision = NewVoterRule.Decide(0, [2, 3], Answers((2, 0), (3, 17)));
        Assert.IsType<WaitForCatchUp>(decision);
        Assert.Contains("voter 3", decision.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void A_voter_with_a_log_counts_even_when_another_has_not_answered()
    {
        Assert.IsType<WaitForCatchUp>(NewVoterRule.Decide(0, [2, 3], Answers((3, 5))));
    }

    /// <summary>Two wiped voters while the third, which holds the log, is down: a majority of empty logs is not enough.</summary>
    [Fact]
    public void A_majority_of_empty_logs_is_not_enough_while_a_voter_is_silent()
    {
        var decision = NewVoterRule.Decide(0, [2, 3], Answers((2, 0)));
        var waiting = Assert.IsType<WaitForVoters>(decision);
        Assert.Equal([3], waiting.Silent);
    }

    [Fact]
    public void A_voter_whose_own_log_holds_entries_is_not_new()
    {
        Assert.IsType<WaitForCatchUp>(NewVoterRule.Decide(4, [2, 3], Answers((2, 0), (3, 0))));
    }

    [Fact]
    public void Answers_from_nodes_that_are_not_voters_do_not_count()
    {
        Assert.IsType<WaitForVoters>(NewVoterRule.Decide(0, [2, 3], Answers((2, 0), (9, 0))));
    }
}
