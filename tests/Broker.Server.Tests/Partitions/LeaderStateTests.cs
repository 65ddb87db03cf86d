using System.Collections.Immutable;
using Broker.Server.Metadata;
using Broker.Server.Partitions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Server.Tests.Partitions;

/// <summary>
/// A leader's rules on the plain class, with a fake clock: the high watermark over the (maximal) ISR, ISR shrink
/// and expansion, acks=all waiters, append admission and the outcome of ISR writes. Node 1 leads; 2 and 3 follow.
/// </summary>
public sealed class LeaderStateTests
{
    private static readonly TimeSpan LagMax = TimeSpan.FromSeconds(30);
    private static readonly ImmutableArray<int> Replicas = [1, 2, 3];

    private readonly FakeTimeProvider _clock = new(TestBatches.Now);
    private readonly HashSet<int> _alive = [1, 2, 3];
    private readonly LeaderState<string> _leader;
    private readonly PartitionLog _log;

    public LeaderStateTests()
    {
        _leader = new LeaderState<string>(1, _clock);
        _log = TestBatches.Log(_clock, 10, 0, 0); // offsets 0..19 in epoch 0
        _log.Epochs.Assign(1, _log.LogEnd);      // this leader's epoch starts at 20
        _leader.Start(new PartitionState(1, 0, 1, [1, 2, 3]), Replicas);
    }

    private bool IsAlive(int id) => _alive.Contains(id);

    private IsrProposal? Fetch(int follower, long logEnd) => _leader.OnFollowerFetch(follower, logEnd, _log, IsAlive);

    private List<AckRelease<string>> UpdateHighWatermark(int minIsr = 1)
    {
        var released = new List<AckRelease<string>>();
        _leader.UpdateHighWatermark(_log, minIsr, released);
        return released;
    }

    /// <summary>Leads with ISR [1, 2], node 2 caught up: the high watermark is 20, node 3 is out of the ISR.</summary>
    private void LeadWithNode3OutOfSync()
    {
        _leader.Start(new PartitionState(1, 0, 1, [1, 2]), Replicas);
        Fetch(2, 20);
        UpdateHighWatermark();
        Assert.Equal(20, _log.HighWatermark);
    }

    private void AppendOnLeader(int records, int epoch = 1)
    {
        var baseOffset = _log.AssignOffsets(records);
        _log.Appended(TestBatches.Batch(baseOffset, records, epoch), baseOffset + 100);
    }

    [Fact]
    public void High_watermark_is_the_lowest_log_end_in_the_ISR()
    {
        Fetch(2, 20);
        Fetch(3, 12);
        UpdateHighWatermark();
        Assert.Equal(12, _log.HighWatermark);

        Fetch(3, 20);
        UpdateHighWatermark();
        Assert.Equal(20, _log.HighWatermark);
    }

    [Fact]
    public void A_member_that_has_not_fetched_yet_holds_the_high_watermark_where_it_is()
    {
        Fetch(2, 20);
        Assert.False(_leader.UpdateHighWatermark(_log, 1, []));
        Assert.Equal(0, _log.HighWatermark);
    }

    [Fact]
    public void High_watermark_never_moves_back()
    {
        Fetch(2, 20);
        Fetch(3, 20);
        UpdateHighWatermark();
        Assert.Equal(20, _log.HighWatermark);
        Assert.Equal(20, _leader.HighWatermarkOf(_log.LogEnd, _log.HighWatermark));
        Assert.False(_leader.UpdateHighWatermark(_log, 1, []));
    }

    [Fact]
    public void While_a_shrink_is_being_written_the_member_being_removed_still_holds_the_high_watermark()
    {
        Fetch(2, 20);
        Fetch(3, 5);
        UpdateHighWatermark();
        _alive.Remove(3);
        var shrink = _leader.CheckIsr(Replicas, IsAlive, LagMax);
        Assert.NotNull(shrink);
        Assert.Equal<int>([1, 2], shrink.Next.Isr);
        Assert.Equal<int>([1, 2, 3], _leader.MaximalIsr);

        UpdateHighWatermark();
        Assert.Equal(5, _log.HighWatermark); // node 3 still counts until the shrink is committed

        Assert.Equal(IsrWriteStep.Applied, _leader.OnIsrWritten(new PartitionStateWrite.Written(shrink.Next)));
        UpdateHighWatermark();
        Assert.Equal(20, _log.HighWatermark);
    }

    [Fact]
    public void A_leader_that_does_not_see_a_majority_of_the_cluster_drops_nobody_for_being_unreachable_only_for_lagging()
    {
        // A leader woken from a pause sees its followers unreachable before the others have moved the partition away:
        // shrinking the ISR to itself would leave the partition's only in-sync replica on the node nobody reaches.
        Fetch(2, 20);
        Fetch(3, 20);
        _alive.Remove(2);
        _alive.Remove(3);
        Assert.Null(_leader.CheckIsr(Replicas, IsAlive, LagMax, seesMajority: false));

        _clock.Advance(TimeSpan.FromSeconds(31)); // the lag rule still holds (followers that really stopped fetching)
        AppendOnLeader(1);
        var shrink = _leader.CheckIsr(Replicas, IsAlive, LagMax, seesMajority: false);
        Assert.NotNull(shrink);
        Assert.Contains("has not caught up", shrink.Why);
        Assert.DoesNotContain("unreachable", shrink.Why);
    }

    [Fact]
    public void While_an_expansion_is_being_written_the_new_member_already_holds_the_high_watermark()
    {
        LeadWithNode3OutOfSync();
        AppendOnLeader(5); // log end 25

        var expand = Fetch(3, 20); // caught up to the high watermark and into epoch 1 (which starts at 20)
        Assert.NotNull(expand);
        Assert.Equal<int>([1, 2, 3], expand.Next.Isr);
        Assert.Equal(1, expand.Next.PartitionEpoch);
        Fetch(2, 25);
        UpdateHighWatermark();
        Assert.Equal(20, _log.HighWatermark); // node 3 is at 20
    }

    [Fact]
    public void A_follower_that_has_not_caught_up_for_longer_than_the_lag_time_leaves_the_ISR()
    {
        Fetch(2, 20);
        Fetch(3, 20); // both caught up at t=0
        AppendOnLeader(5);
        _clock.Advance(TimeSpan.FromSeconds(20));
        Fetch(2, 25);
        Fetch(3, 20); // behind the log end: last caught up still at t=0
        Assert.Null(_leader.CheckIsr(Replicas, IsAlive, LagMax));

        _clock.Advance(TimeSpan.FromSeconds(11));
        Fetch(2, 25);
        var shrink = _leader.CheckIsr(Replicas, IsAlive, LagMax);
        Assert.NotNull(shrink);
        Assert.Equal<int>([1, 2], shrink.Next.Isr);
        Assert.Contains("node 3 has not caught up for 31s", shrink.Why);
    }

    [Fact]
    public void A_dead_member_and_a_removed_replica_leave_the_ISR()
    {
        _alive.Remove(2);
        var shrink = _leader.CheckIsr([1, 2], IsAlive, LagMax);
        Assert.NotNull(shrink);
        Assert.Equal<int>([1], shrink.Next.Isr);
        Assert.Contains("node 2 is down or unreachable", shrink.Why);
        Assert.Contains("node 3 is no longer a replica", shrink.Why);
        Assert.True(_leader.IsrWriteInFlight);
        Assert.Null(_leader.CheckIsr([1, 2], IsAlive, LagMax)); // one write at a time
    }

    [Fact]
    public void A_follower_joins_the_ISR_only_when_caught_up_to_the_high_watermark_and_into_this_epoch()
    {
        LeadWithNode3OutOfSync();

        Assert.Null(Fetch(3, 15)); // below the high watermark
        _alive.Remove(3);
        Assert.Null(Fetch(3, 20)); // caught up but down
        _alive.Add(3);
        var expand = Fetch(3, 20);
        Assert.NotNull(expand);
        Assert.Contains("node 3 caught up", expand.Why);
    }

    [Fact]
    public void A_follower_at_the_high_watermark_but_before_this_epoch_starts_stays_out()
    {
        var log = TestBatches.Log(_clock, 10, 0, 0);
        log.Epochs.Assign(1, 20);
        log.Appended(TestBatches.Batch(20, 5, 1), 3);
        var leader = new LeaderState<string>(1, _clock);
        leader.Start(new PartitionState(1, 0, 1, [1]), Replicas);
        Assert.Null(leader.OnFollowerFetch(2, 15, log, IsAlive)); // high watermark is still 0, but epoch 1 starts at 20
        Assert.NotNull(leader.OnFollowerFetch(2, 20, log, IsAlive));
    }

    [Fact]
    public void Acks_all_producers_are_released_only_when_the_high_watermark_passes_their_records()
    {
        Fetch(2, 20);
        Fetch(3, 20);
        UpdateHighWatermark();
        AppendOnLeader(5);
        _leader.AwaitCommit(_log.LogEnd, 20, -1, "first");
        AppendOnLeader(5);
        _leader.AwaitCommit(_log.LogEnd, 25, -1, "second");

        Assert.Empty(UpdateHighWatermark());
        Fetch(2, 25);
        Fetch(3, 24);
        Assert.Empty(UpdateHighWatermark());
        Fetch(3, 27);
        var released = UpdateHighWatermark();
        Assert.Equal("first", Assert.Single(released).ReplyTo);
        Assert.Equal(CommitOutcome.Committed, released[0].Outcome);
        Assert.Equal(1, _leader.WaitingAcks);

        Fetch(2, 30);
        Fetch(3, 30);
        Assert.Equal("second", Assert.Single(UpdateHighWatermark()).ReplyTo);
    }

    [Fact]
    public void An_ISR_that_shrank_below_min_insync_while_a_producer_waited_answers_NotEnoughReplicasAfterAppend()
    {
        Fetch(2, 20);
        Fetch(3, 20);
        UpdateHighWatermark();
        AppendOnLeader(5);
        _leader.AwaitCommit(_log.LogEnd, 20, -1, "producer");
        _alive.Remove(2);
        _alive.Remove(3);
        var shrink = _leader.CheckIsr(Replicas, IsAlive, LagMax)!;
        _leader.OnIsrWritten(new PartitionStateWrite.Written(shrink.Next));

        var released = UpdateHighWatermark(minIsr: 2);
        Assert.Equal(CommitOutcome.NotEnoughReplicasAfterAppend, Assert.Single(released).Outcome);
        Assert.Equal(25, _log.HighWatermark);
    }

    [Fact]
    public void Appends_are_fenced_by_epoch_and_incarnation_and_acks_all_needs_min_insync_replicas()
    {
        Assert.Equal(AppendAdmission.StaleLeader, _leader.Fence(requestLeaderEpoch: 2, exactEpoch: false, sameIncarnation: true));
        Assert.Equal(AppendAdmission.OtherIncarnation, _leader.Fence(requestLeaderEpoch: 1, exactEpoch: false, sameIncarnation: false));
        Assert.Equal(AppendAdmission.Admitted, _leader.Fence(requestLeaderEpoch: 0, exactEpoch: false, sameIncarnation: true));
        Assert.Equal(AppendAdmission.Admitted, _leader.Fence(requestLeaderEpoch: -1, exactEpoch: false, sameIncarnation: true));
        // A group coordinator's write names the epoch it read the log in, and only that epoch takes it.
        Assert.Equal(AppendAdmission.OtherEpoch, _leader.Fence(requestLeaderEpoch: 0, exactEpoch: true, sameIncarnation: true));
        Assert.Equal(AppendAdmission.Admitted, _leader.Fence(requestLeaderEpoch: _leader.Epoch, exactEpoch: true, sameIncarnation: true));

        Assert.Equal(AppendAdmission.Admitted, _leader.CheckMinIsr(acks: -1, minInsyncReplicas: 3));
        Assert.Equal(AppendAdmission.NotEnoughReplicas, _leader.CheckMinIsr(acks: -1, minInsyncReplicas: 4));
        Assert.Equal(AppendAdmission.Admitted, _leader.CheckMinIsr(acks: 1, minInsyncReplicas: 4));
    }

    [Fact]
    public void An_ISR_write_refused_because_a_newer_leader_epoch_exists_fences_the_leader()
    {
        _alive.Remove(3);
        _leader.CheckIsr(Replicas, IsAlive, LagMax);
        var step = _leader.OnIsrWritten(new PartitionStateWrite.Conflict("partition state is leader 2 epoch 2.0 isr [2]", null));
        Assert.Equal(IsrWriteStep.Fenced, step);
        Assert.False(_leader.IsrWriteInFlight);
    }

    [Fact]
    public void An_ISR_write_refused_while_the_store_names_this_leader_in_its_epoch_takes_the_stored_state_instead_of_stepping_down()
    {
        _alive.Remove(3);
        _leader.CheckIsr(Replicas, IsAlive, LagMax);
        // The store lost our last ISR change (partition epoch 0.1 -> back to 0.0) but still names node 1 leader in epoch 1.
        var stored = new PartitionState(1, 3, 1, [1, 3]);
        Assert.Equal(IsrWriteStep.Refreshed, _leader.OnIsrWritten(new PartitionStateWrite.Conflict("partition state is leader 1 epoch 1.3 isr [1,3]", stored)));
        Assert.Equal(stored, _leader.State);
        Assert.False(_leader.IsrWriteInFlight);
        // The next check proposes from what the store holds: node 3 is down.
        var next = _leader.CheckIsr(Replicas, IsAlive, LagMax)!;
        Assert.Equal(stored, next.Expected);
        Assert.Equal<int>([1], next.Next.Isr);

        // A state naming another leader, or this node in another epoch, still fences.
        Assert.Equal(IsrWriteStep.Fenced, _leader.OnIsrWritten(new PartitionStateWrite.Conflict("newer", new PartitionState(2, 0, 2, [2]))));
        Assert.Equal(IsrWriteStep.Fenced, _leader.OnIsrWritten(new PartitionStateWrite.Conflict("newer", new PartitionState(2, 0, 1, [1]))));
    }

    [Fact]
    public void An_ISR_write_refused_by_a_store_that_holds_an_older_leader_epoch_says_the_election_was_lost_not_fenced()
    {
        _alive.Remove(3);
        _leader.CheckIsr(Replicas, IsAlive, LagMax);
        // This leader was elected in epoch 1; the store holds node 2 in epoch 0: nobody newer leads.
        Assert.Equal(IsrWriteStep.StoreBehind, _leader.OnIsrWritten(new PartitionStateWrite.Conflict("partition state is leader 2 epoch 0.2", new PartitionState(0, 2, 2, [2, 3]))));
        Assert.False(_leader.IsrWriteInFlight);
        // Without the stored state the leader cannot tell: fenced, as before.
        _leader.CheckIsr(Replicas, IsAlive, LagMax);
        Assert.Equal(IsrWriteStep.Fenced, _leader.OnIsrWritten(new PartitionStateWrite.Conflict("refused", null)));
    }

    [Fact]
    public void An_unconfirmed_ISR_write_keeps_the_maximal_ISR_and_is_written_again_at_the_next_check()
    {
        Fetch(2, 20);
        Fetch(3, 3);
        _alive.Remove(3);
        var shrink = _leader.CheckIsr(Replicas, IsAlive, LagMax)!;
        Assert.Equal(IsrWriteStep.Unconfirmed, _leader.OnIsrWritten(new PartitionStateWrite.Unavailable("no majority")));
        Assert.Equal<int>([1, 2, 3], _leader.MaximalIsr);
        UpdateHighWatermark();
        Assert.Equal(3, _log.HighWatermark);

        var again = _leader.CheckIsr(Replicas, IsAlive, LagMax);
        Assert.NotNull(again);
        Assert.Equal(shrink.Next, again.Next);
        Assert.Equal("retrying an unconfirmed change", again.Why);
    }

    [Fact]
    public void A_written_state_of_another_leader_epoch_is_not_applied()
    {
        _alive.Remove(3);
        _leader.CheckIsr(Replicas, IsAlive, LagMax);
        var stale = new PartitionState(0, 5, 1, [1]);
        Assert.Equal(IsrWriteStep.Unconfirmed, _leader.OnIsrWritten(new PartitionStateWrite.Written(stale)));
        Assert.Equal<int>([1, 2, 3], _leader.State!.Isr);
    }

    [Fact]
    public void Stepping_down_keeps_the_epoch_and_hands_back_the_waiting_producers()
    {
        _leader.AwaitCommit(30, 20, -1, "a");
        _leader.AwaitCommit(35, 30, -1, "b");
        Assert.True(_leader.StepDown());
        Assert.False(_leader.StepDown());
        Assert.False(_leader.StillLeads(1));
        Assert.Equal(1, _leader.Epoch);
        Assert.Equal<string>(["a", "b"], _leader.DrainAckWaiters());
        Assert.Equal(0, _leader.WaitingAcks);
    }

    [Fact]
    public void Followers_that_are_no_longer_replicas_are_forgotten()
    {
        _leader.Start(new PartitionState(1, 0, 1, [1, 2]), Replicas);
        Fetch(2, 20);
        Fetch(3, 2);
        _leader.ForgetRemovedFollowers([1, 2]);
        Assert.Equal<int>([2], _leader.FollowerIds);
        UpdateHighWatermark();
        Assert.Equal(20, _log.HighWatermark);
    }
}
