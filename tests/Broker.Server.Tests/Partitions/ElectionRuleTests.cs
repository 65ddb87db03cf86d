using System.Collections.Immutable;
using Broker.Server.Metadata;
using Broker.Server.Partitions;
using Xunit;

namespace Broker.Server.Tests.Partitions;

/// <summary>Who may lead a partition, the state it writes, and what a replica does after the write (pure rules).</summary>
public sealed class ElectionRuleTests
{
    private static readonly ImmutableArray<int> Replicas = [1, 2, 3];

    [Fact]
    public void An_in_sync_replica_leads_the_next_epoch_with_the_live_members_of_the_old_ISR()
    {
        var current = new PartitionState(4, 7, 2, [2, 1, 3]);
        var candidacy = ElectionRule.Decide(current, me: 1, Replicas, uncleanAllowed: false, isAlive: id => id != 3);
        var next = Assert.IsType<ElectionRule.Candidacy.Eligible>(candidacy).Next;
        Assert.Equal(5, next.LeaderEpoch);
        Assert.Equal(0, next.PartitionEpoch);
        Assert.Equal(1, next.Leader);
        Assert.Equal<int>([1, 2], next.Isr);
    }

    [Fact]
    public void A_replica_that_does_not_see_a_majority_of_the_cluster_does_not_stand_for_election()
    {
        // A node woken from a pause (or cut off) sees the others unreachable: electing itself would write an ISR of
        // itself alone and fence the real leader, leaving the partition's only in-sync replica where nobody reaches it.
        var current = new PartitionState(4, 7, 2, [2, 1, 3]);
        var refused = Assert.IsType<ElectionRule.Candidacy.NotEligible>(
            ElectionRule.Decide(current, me: 1, Replicas, uncleanAllowed: true, isAlive: id => id == 1, isolated: "1 of 3 members reachable"));
        Assert.Contains("does not see a majority of the cluster (1 of 3 members reachable)", refused.Reason);
    }

    [Fact]
    public void Old_members_that_are_no_longer_replicas_stay_out_of_the_new_ISR()
    {
        var current = new PartitionState(1, 0, 1, [1, 4]);
        var next = Assert.IsType<ElectionRule.Candidacy.Eligible>(ElectionRule.Decide(current, 1, Replicas, false, _ => true)).Next;
        Assert.Equal<int>([1], next.Isr);
    }

    [Fact]
    public void A_replica_out_of_sync_may_not_lead_unless_unclean_election_is_allowed_and_then_alone()
    {
        var current = new PartitionState(2, 0, 2, [2]);
        var refused = Assert.IsType<ElectionRule.Candidacy.NotEligible>(ElectionRule.Decide(current, 1, Replicas, false, _ => true));
        Assert.Contains("node 1 is not in the ISR [2]", refused.Reason);

        var unclean = Assert.IsType<ElectionRule.Candidacy.Eligible>(ElectionRule.Decide(current, 1, Replicas, true, _ => true)).Next;
        Assert.Equal(3, unclean.LeaderEpoch);
        Assert.Equal<int>([1], unclean.Isr);

        Assert.IsType<ElectionRule.Candidacy.NotEligible>(ElectionRule.Decide(current, 9, Replicas, true, _ => true)); // not even a replica
    }

    [Fact]
    public void A_won_election_leads_in_the_written_state()
    {
        var state = new PartitionState(3, 0, 1, [1, 2]);
        Assert.Equal(state, Assert.IsType<ElectionRule.Step.Lead>(ElectionRule.After(new PartitionStateWrite.Written(state), 0)).State);
    }

    [Fact]
    public void A_lost_election_follows_and_tries_again_after_a_jittered_pause()
    {
        var lost = new PartitionStateWrite.Conflict("another election won", new PartitionState(3, 0, 2, [2]));
        var early = Assert.IsType<ElectionRule.Step.FollowAndRetry>(ElectionRule.After(lost, 0));
        var late = Assert.IsType<ElectionRule.Step.FollowAndRetry>(ElectionRule.After(lost, 499));
        Assert.Equal(TimeSpan.FromMilliseconds(1000), early.RetryIn);
        Assert.Equal(TimeSpan.FromMilliseconds(1499), late.RetryIn);
        Assert.Equal("another election won", early.Reason);
    }

    [Fact]
    public void An_ineligible_replica_refuses_requests_and_an_unconfirmed_election_is_retried()
    {
        var refused = Assert.IsType<ElectionRule.Step.RefuseAndRetry>(ElectionRule.After(new PartitionStateWrite.Ineligible("not in the ISR", new PartitionState(1, 0, 2, [2])), 0));
        Assert.Equal(ElectionRule.NotEligibleRetry, refused.RetryIn);
        var retry = Assert.IsType<ElectionRule.Step.Retry>(ElectionRule.After(new PartitionStateWrite.Unavailable("timeout"), 0));
        Assert.Equal(ElectionRule.UnavailableRetry, retry.RetryIn);
    }
}
