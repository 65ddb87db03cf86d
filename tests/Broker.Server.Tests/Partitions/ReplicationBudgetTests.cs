using Broker.Server.Partitions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Server.Tests.Partitions;

/// <summary>
/// The node-wide cap on replication bytes queued toward a follower node, on the plain class with a fake clock:
/// reservation, trimming, at-least-one-batch progress, release on the next fetch, on member removal and after the hold
/// limit, the order of the line, and 1,000 partitions that neither starve nor hold the budget while idle.
/// </summary>
public sealed class ReplicationBudgetTests
{
    private const long MiB = 1024 * 1024;
    private const string NodeB = "node-b";
    private const string NodeC = "node-c";
    private static readonly TimeSpan HoldLimit = TimeSpan.FromMilliseconds(2500);

    private readonly FakeTimeProvider _clock = new(TestBatches.Now);
    private readonly ReplicationBudget<string> _budget;

    public ReplicationBudgetTests() => _budget = new ReplicationBudget<string>(8 * MiB, HoldLimit, _clock);

    /// <summary>A leader replica: counts the grants it was told of.</summary>
    private sealed class Replica(string name) : IReplicationBudgetWaiter<string>
    {
        public readonly List<string> Granted = new();

        public void BytesGranted(string node) => Granted.Add(node);

        public override string ToString() => name;
    }

    [Fact]
    public void An_answer_that_fits_gets_all_it_wants()
    {
        var a = new Replica("a");
        Assert.Equal(4 * MiB, _budget.Reserve(NodeB, a, MiB, 4 * MiB, inSync: false));
        Assert.Equal(4 * MiB, _budget.InFlight(NodeB));
        Assert.Equal(0, _budget.InFlight(NodeC));
    }

    [Fact]
    public void An_answer_is_trimmed_to_what_is_left_but_never_below_its_first_batch()
    {
        var (a, b) = (new Replica("a"), new Replica("b"));
        Assert.Equal(6 * MiB, _budget.Reserve(NodeB, a, MiB, 6 * MiB, inSync: false));
        Assert.Equal(2 * MiB, _budget.Reserve(NodeB, b, MiB, 4 * MiB, inSync: false));
        Assert.Equal(8 * MiB, _budget.InFlight(NodeB));
    }

    [Fact]
    public void A_fetch_whose_first_batch_does_not_fit_waits_until_the_answer_ahead_is_delivered()
    {
        var (a, b) = (new Replica("a"), new Replica("b"));
        _budget.Reserve(NodeB, a, MiB, 7 * MiB, inSync: false);
        Assert.Equal(0, _budget.Reserve(NodeB, b, 2 * MiB, 4 * MiB, inSync: false));
        Assert.Equal(1, _budget.Waiting(NodeB));
        Assert.Empty(b.Granted);

        _budget.Delivered(NodeB, a); // a's follower fetched again: it has a's answer
        Assert.Equal([NodeB], b.Granted);
        Assert.Equal(4 * MiB, _budget.Reserve(NodeB, b, 2 * MiB, 4 * MiB, inSync: false)); // takes what was set aside
        Assert.Equal(4 * MiB, _budget.InFlight(NodeB));
        Assert.Equal(0, _budget.Waiting(NodeB));
    }

    [Fact]
    public void A_batch_larger_than_the_cap_goes_alone_so_its_partition_progresses()
    {
        var budget = new ReplicationBudget<string>(MiB, HoldLimit, _clock);
        var (a, b) = (new Replica("a"), new Replica("b"));
        Assert.Equal(3 * MiB, budget.Reserve(NodeB, a, 3 * MiB, 4 * MiB, inSync: false));
        Assert.Equal(0, budget.Reserve(NodeB, b, 100, 200, inSync: false));
        budget.Delivered(NodeB, a);
        Assert.Equal(200, budget.Reserve(NodeB, b, 100, 200, inSync: false));
    }

    [Fact]
    public void Settle_shrinks_the_reservation_to_what_was_read_and_lets_the_next_in_line_go()
    {
        var (a, b) = (new Replica("a"), new Replica("b"));
        _budget.Reserve(NodeB, a, MiB, 8 * MiB, inSync: false);
        _budget.Reserve(NodeB, b, MiB, MiB, inSync: false);
        _budget.Settle(NodeB, a, 3 * MiB); // the log held less than planned
        Assert.Equal([NodeB], b.Granted);
        Assert.Equal(4 * MiB, _budget.InFlight(NodeB));
        Assert.Equal(MiB, _budget.Reserve(NodeB, b, MiB, MiB, inSync: false));
        _budget.Settle(NodeB, b, 0); // b's read failed: nothing is sent
        Assert.Equal(3 * MiB, _budget.InFlight(NodeB));
    }

    [Fact]
    public void A_fetch_answered_without_records_releases_bytes_set_aside_for_it()
    {
        var (a, b, c) = (new Replica("a"), new Replica("b"), new Replica("c"));
        _budget.Reserve(NodeB, a, 8 * MiB, 8 * MiB, inSync: false);
        _budget.Reserve(NodeB, b, MiB, MiB, inSync: false);
        _budget.Reserve(NodeB, c, MiB, 8 * MiB, inSync: false);
        _budget.Delivered(NodeB, a);
        Assert.Equal(8 * MiB, _budget.InFlight(NodeB)); // 1 MiB for b, 7 for c, set aside
        _budget.CancelWait(NodeB, b); // b's follower fetched again from its log end: nothing to send
        Assert.Equal(7 * MiB, _budget.InFlight(NodeB));
        Assert.Equal(7 * MiB, _budget.Reserve(NodeB, c, MiB, 8 * MiB, inSync: false));
        _budget.CancelWait(NodeB, c); // an answer in flight is not a wait: it stays counted
        Assert.Equal(7 * MiB, _budget.InFlight(NodeB));
    }

    [Fact]
    public void The_follower_nodes_removal_releases_everything_toward_it()
    {
        var (a, b) = (new Replica("a"), new Replica("b"));
        _budget.Reserve(NodeB, a, MiB, 8 * MiB, inSync: false);
        _budget.Reserve(NodeB, b, MiB, MiB, inSync: false);
        _budget.Reserve(NodeC, b, MiB, 8 * MiB, inSync: false);
        _budget.NodeRemoved(NodeB);
        Assert.Equal(0, _budget.InFlight(NodeB));
        Assert.Equal(0, _budget.Waiting(NodeB));
        Assert.Equal(8 * MiB, _budget.InFlight(NodeC));
        Assert.Equal(4 * MiB, _budget.Reserve(NodeB, a, MiB, 4 * MiB, inSync: false)); // a new incarnation starts from nothing
    }

    [Fact]
    public void A_reservation_not_released_within_the_hold_limit_is_dropped()
    {
        var (a, b) = (new Replica("a"), new Replica("b"));
        _budget.Reserve(NodeB, a, MiB, 8 * MiB, inSync: false); // a's follower will never fetch again
        Assert.Equal(0, _budget.Reserve(NodeB, b, MiB, MiB, inSync: false));
        _clock.Advance(HoldLimit - TimeSpan.FromMilliseconds(1));
        _budget.Reserve(NodeB, b, MiB, MiB, inSync: false); // b's follower fetched again: still waiting
        Assert.Empty(b.Granted);

        _clock.Advance(HoldLimit);
        _budget.Reserve(NodeB, b, MiB, MiB, inSync: false);
        Assert.Equal([NodeB], b.Granted);
        Assert.Equal(MiB, _budget.InFlight(NodeB));
    }

    [Fact]
    public void A_leader_that_stops_leading_releases_what_it_holds_and_its_place_in_line_on_every_node()
    {
        var (a, b) = (new Replica("a"), new Replica("b"));
        _budget.Reserve(NodeB, a, MiB, 8 * MiB, inSync: false);
        _budget.Reserve(NodeC, a, MiB, 8 * MiB, inSync: false);
        _budget.Reserve(NodeC, b, MiB, MiB, inSync: false);
        _budget.Reserve(NodeB, b, MiB, MiB, inSync: false);
        _budget.Withdraw(b);
        Assert.Equal(0, _budget.Waiting(NodeB));
        _budget.Withdraw(a);
        Assert.Equal(0, _budget.InFlight(NodeB));
        Assert.Equal(0, _budget.InFlight(NodeC));
        Assert.Empty(b.Granted);
    }

    [Fact]
    public void Waiters_are_served_in_order_and_keep_their_place_when_their_follower_fetches_again()
    {
        var (a, b, c) = (new Replica("a"), new Replica("b"), new Replica("c"));
        _budget.Reserve(NodeB, a, 8 * MiB, 8 * MiB, inSync: false);
        _budget.Reserve(NodeB, b, 4 * MiB, 4 * MiB, inSync: false);
        _budget.Reserve(NodeB, c, MiB, MiB, inSync: false);
        _budget.Reserve(NodeB, b, 5 * MiB, 5 * MiB, inSync: false); // b's follower gave up and fetched again
        var d = new Replica("d");
        Assert.Equal(0, _budget.Reserve(NodeB, d, 1, 1, inSync: false)); // fits, but does not overtake the line

        _budget.Delivered(NodeB, a);
        Assert.Equal([NodeB], b.Granted);
        Assert.Equal([NodeB], c.Granted);
        Assert.Equal([NodeB], d.Granted);
        Assert.Equal(5 * MiB, _budget.Reserve(NodeB, b, 5 * MiB, 5 * MiB, inSync: false));
    }

    [Fact]
    public void A_large_first_batch_at_the_head_of_the_line_is_not_overtaken_by_small_ones()
    {
        var (a, big, small) = (new Replica("a"), new Replica("big"), new Replica("small"));
        _budget.Reserve(NodeB, a, 6 * MiB, 6 * MiB, inSync: false);
        Assert.Equal(0, _budget.Reserve(NodeB, big, 4 * MiB, 4 * MiB, inSync: false));
        Assert.Equal(0, _budget.Reserve(NodeB, small, 1, MiB, inSync: false)); // 2 MiB are free, but big is first
        _budget.Delivered(NodeB, a);
        Assert.Equal([NodeB], big.Granted);
        Assert.Equal([NodeB], small.Granted);
        Assert.Equal(5 * MiB, _budget.InFlight(NodeB));
    }

    [Fact]
    public void In_sync_followers_wait_only_behind_in_sync_followers()
    {
        var (a, catchingUp, inSync) = (new Replica("a"), new Replica("catching-up"), new Replica("in-sync"));
        _budget.Reserve(NodeB, a, 8 * MiB, 8 * MiB, inSync: false);
        _budget.Reserve(NodeB, catchingUp, 4 * MiB, 4 * MiB, inSync: false);
        _budget.Reserve(NodeB, inSync, 6 * MiB, 6 * MiB, inSync: true);
        _budget.Delivered(NodeB, a);
        Assert.Equal([NodeB], inSync.Granted);
        Assert.Empty(catchingUp.Granted); // 2 MiB left: its 4 MiB batch waits for the in-sync answer
        Assert.Equal(2 * MiB, _budget.Reserve(NodeB, new Replica("next"), MiB, 4 * MiB, inSync: true)); // in sync: goes ahead of it
    }

    [Fact]
    public void A_thousand_idle_partitions_hold_nothing_and_a_thousand_catching_up_all_finish_within_the_cap()
    {
        const int partitions = 1000;
        const long batch = 256 * 1024;
        var replicas = new Replica[partitions];
        var backlog = new long[partitions];
        for (var p = 0; p < partitions; p++) replicas[p] = new Replica($"p{p}");

        // Idle: every fetch is a long poll answered empty, which reserves nothing (the leader never calls Reserve);
        // its next fetch still reports delivery and cancels any wait.
        for (var round = 0; round < 3; round++)
        {
            for (var p = 0; p < partitions; p++)
            {
                _budget.Delivered(NodeB, replicas[p]);
                _budget.CancelWait(NodeB, replicas[p]);
            }
        }
        Assert.Equal(0, _budget.InFlight(NodeB));
        Assert.Equal(4 * MiB, _budget.Reserve(NodeB, replicas[0], batch, 4 * MiB, inSync: false)); // all of it is there
        _budget.Settle(NodeB, replicas[0], 0);

        // Then every partition has 3 MiB to catch up. Answers are delivered in the order they were sent; a delivered
        // follower fetches again at once. The budget must never exceed the cap and every partition must finish.
        for (var p = 0; p < partitions; p++) backlog[p] = 3 * MiB;
        var inFlight = new Queue<(int Partition, long Bytes)>();
        var turn = new int[partitions]; // when each waiting partition started waiting, in deliveries
        var deliveries = 0;
        var longestWait = 0;
        void Fetch(int p)
        {
            var granted = _budget.Reserve(NodeB, replicas[p], batch, Math.Min(backlog[p], 4 * MiB), inSync: false);
            if (granted > 0)
            {
                longestWait = Math.Max(longestWait, deliveries - turn[p]);
                inFlight.Enqueue((p, granted));
            }
            else
            {
                turn[p] = deliveries;
            }
            Assert.True(_budget.InFlight(NodeB) <= 8 * MiB);
        }
        for (var p = 0; p < partitions; p++) Fetch(p);
        while (inFlight.Count > 0)
        {
            var (p, bytes) = inFlight.Dequeue();
            deliveries++;
            backlog[p] -= bytes;
            _budget.Delivered(NodeB, replicas[p]); // its next fetch
            if (backlog[p] > 0) Fetch(p);
            else _budget.CancelWait(NodeB, replicas[p]); // caught up: long polls from now on
            // Those told of bytes set aside fetch (take them) now.
            for (var q = 0; q < partitions; q++)
            {
                if (replicas[q].Granted.Count == 0) continue;
                replicas[q].Granted.Clear();
                Fetch(q);
            }
        }
        Assert.All(backlog, b => Assert.True(b <= 0));
        Assert.Equal(0, _budget.InFlight(NodeB));
        Assert.Equal(0, _budget.Waiting(NodeB));
        // First come, first served: nobody waits longer than one turn of the whole line.
        Assert.True(longestWait <= partitions, $"a partition waited {longestWait} deliveries");
    }
}
