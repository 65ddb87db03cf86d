using System.Collections.Immutable;
using System.Diagnostics;
using Broker.Server.Controller;
using Broker.Server.Controller.Quorum;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Controller.Quorum;

/// <summary>Three real Raft voters on 127.0.0.1: ordering, failover, minorities, full restarts and the lone stale node.</summary>
public sealed class MetadataQuorumTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ElectionDeadline = TimeSpan.FromSeconds(15);

    private static RegisterBroker Broker(int id) => new(id, Guid.NewGuid(), -1);

    private static int[] BrokerIds(MetadataImage image) => [.. image.Brokers.Keys];

    [Fact]
    public async Task Commits_from_any_voter_are_applied_on_every_voter_in_the_same_order()
    {
        await using var cluster = new QuorumTestCluster();
        await cluster.StartAsync(1, 2, 3);
        await cluster.LeaderAsync(ElectionDeadline);
        var clock = Stopwatch.StartNew();
        var proposals = Enumerable.Range(1, 30).Select(i => QuorumTestCluster.ProposeAsync(cluster[i % 3 + 1], Broker(100 + i)));
        var results = await Task.WhenAll(proposals);
        output.WriteLine($"30 concurrent proposals (20 forwarded) committed and applied in {clock.ElapsedMilliseconds} ms");
        Assert.All(results, r => Assert.IsType<BrokerRegistered>(r));
        Assert.Equal(30, results.Select(r => ((BrokerRegistered)r).BrokerEpoch).Distinct().Count());

        foreach (var q in cluster.Running)
        {
            using var cts = new CancellationTokenSource(ElectionDeadline);
            var image = await q.ReadAsync(cts.Token);
            Assert.Equal(30, image.Brokers.Count);
        }
        var orders = cluster.Applied.Select(log => string.Join(',', log.Select(a => $"{a.Index}:{((RegisterBroker)a.Record).BrokerId}"))).ToArray();
        Assert.Equal(orders[0], orders[1]);
        Assert.Equal(orders[0], orders[2]);
    }

    [Fact]
    public async Task When_the_controller_stops_another_voter_takes_over_within_seconds_and_no_committed_record_is_lost()
    {
        await using var cluster = new QuorumTestCluster();
        await cluster.StartAsync(1, 2, 3);
        var leader = await cluster.LeaderAsync(ElectionDeadline);
        for (var i = 1; i <= 10; i++) Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, Broker(i)));
        var oldTerm = leader.Term;

        var clock = Stopwatch.StartNew();
        await cluster.StopAsync(leader.NodeId);
        var successor = await cluster.LeaderAsync(ElectionDeadline);
        var failover = clock.Elapsed;
        Assert.NotEqual(leader.NodeId, successor.NodeId);
        Assert.True(successor.Term > oldTerm, $"term {successor.Term} after {oldTerm}");
        Assert.True(failover < TimeSpan.FromSeconds(10), $"failover took {failover}");
        output.WriteLine($"controller {leader.NodeId} stopped -> controller {successor.NodeId} known to all voters in {failover.TotalMilliseconds:F0} ms");

        Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(cluster.Running.First(q => q != successor), Broker(11)));
        foreach (var q in cluster.Running)
        {
            using var cts = new CancellationTokenSource(ElectionDeadline);
            Assert.Equal(Enumerable.Range(1, 11), BrokerIds(await q.ReadAsync(cts.Token)));
        }
    }

    [Fact]
    public async Task A_voter_forwarding_to_a_controller_that_restarted_and_won_again_finds_its_new_channel_port()
    {
        // The controller channel listens on a port chosen at start, published in Raft member metadata that the other
        // voters cache: after the controller restarts (new port) and wins the election again, a forwarding voter must
        // look the port up again. Deterministic: the forwarder never stands for election, and the third voter is
        // stopped, so the restarted voter is the only candidate.
        await using var cluster = new QuorumTestCluster();
        cluster.Settings[1] = cluster.Settings[1] with { NeverLeads = true };
        await cluster.StartAsync(1, 3);
        var controller = await cluster.LeaderAsync(ElectionDeadline);
        await cluster.StartAsync(2);
        await cluster.LeaderAsync(ElectionDeadline);
        var forwarder = cluster[2];
        output.WriteLine($"controller {controller.NodeId}, every voter knows it");
        Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(forwarder, Broker(1))); // caches the channel's port
        var other = controller.NodeId == 1 ? 3 : 1;

        await cluster.StopAsync(other); // left: the controller and the forwarder, a bare majority
        var term = controller.Term;
        await cluster.StopAsync(controller.NodeId);
        output.WriteLine($"controller {controller.NodeId} (term {term}) stopped with voter {other}; restarting it");
        await cluster.StartAsync(controller.NodeId);
        var again = await cluster.LeaderAsync(ElectionDeadline);
        Assert.Equal(controller.NodeId, again.NodeId);
        Assert.True(again.Term > term, $"term {again.Term} after {term}");

        Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(forwarder, Broker(2)));
        using var cts = new CancellationTokenSource(ElectionDeadline);
        var image = await again.ReadAsync(cts.Token);
        Assert.Equal([1, 2], BrokerIds(image).AsEnumerable());
    }

    [Fact]
    public async Task A_send_to_a_port_nobody_listens_on_is_not_sent_and_says_so()
    {
        var closed = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, global::Broker.Tests.TestPorts.Free());
        var outcome = await ControllerChannel.SendAsync(closed, [1, 2, 3], tls: null, CancellationToken.None);
        Assert.IsType<ControllerChannel.NotSent>(outcome);
    }

    [Fact]
    public async Task A_minority_can_neither_elect_nor_commit()
    {
        await using var cluster = new QuorumTestCluster();
        await cluster.StartAsync(1, 2, 3);
        var leader = await cluster.LeaderAsync(ElectionDeadline);
        Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, Broker(1)));
        var survivor = leader.NodeId % 3 + 1;
        using (var caughtUp = new CancellationTokenSource(ElectionDeadline))
            await cluster[survivor].ReadAsync(caughtUp.Token); // it has applied the commit before the others go
        await cluster.StopAsync([.. Enumerable.Range(1, 3).Where(id => id != survivor)]);

        var lone = cluster[survivor];
        // Several election timeouts (1-2 s each) without a majority: no leader, no commit, no linearizable read.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => QuorumTestCluster.ProposeAsync(lone, Broker(2), TimeSpan.FromSeconds(6)));
        Assert.False(lone.IsController);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => lone.ReadAsync(cts.Token));
        Assert.Equal([1], BrokerIds(lone.Image));
    }

    [Theory]
    [InlineData(1, 2, 3)]
    [InlineData(1, 3, 2)]
    [InlineData(2, 1, 3)]
    [InlineData(2, 3, 1)]
    [InlineData(3, 1, 2)]
    [InlineData(3, 2, 1)]
    public async Task A_full_restart_in_any_order_keeps_every_committed_record(int first, int second, int third)
    {
        await using var cluster = new QuorumTestCluster();
        await cluster.StartAsync(1, 2, 3);
        var leader = await cluster.LeaderAsync(ElectionDeadline);
        for (var i = 1; i <= 5; i++) Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, Broker(i)));
        await cluster.StopAsync(1, 2, 3);

        await cluster.StartAsync(first);
        Assert.False(cluster[first].IsController);
        await cluster.StartAsync(second);
        var restarted = await cluster.LeaderAsync(ElectionDeadline);
        Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(cluster[first], Broker(6)));
        await cluster.StartAsync(third);
        foreach (var q in cluster.Running)
        {
            using var cts = new CancellationTokenSource(ElectionDeadline);
            Assert.Equal(Enumerable.Range(1, 6), BrokerIds(await q.ReadAsync(cts.Token)));
        }
        Assert.Contains(restarted.NodeId, new[] { first, second });
    }

    /// <summary>
    /// Issue 18's scenario at the metadata layer: voter 1 is down while 2 and 3 commit, all stop, and 1 starts first
    /// and alone. It cannot elect itself or commit anything; once the others are back, it learns what they committed.
    /// </summary>
    [Fact]
    public async Task A_lone_stale_voter_starting_first_can_neither_elect_itself_nor_commit()
    {
        await using var cluster = new QuorumTestCluster();
        await cluster.StartAsync(1, 2, 3);
        var leader = await cluster.LeaderAsync(ElectionDeadline);
        Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, Broker(1)));
        await cluster.StopAsync(1);
        leader = await cluster.LeaderAsync(ElectionDeadline);
        for (var i = 2; i <= 6; i++) Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, Broker(i)));
        await cluster.StopAsync(2, 3);

        await cluster.StartAsync(1);
        var lone = cluster[1];
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => QuorumTestCluster.ProposeAsync(lone, Broker(99), TimeSpan.FromSeconds(6)));
        Assert.False(lone.IsController);
        Assert.Null(lone.ControllerId);
        Assert.DoesNotContain(99, BrokerIds(lone.Image));

        await cluster.StartAsync(2, 3);
        await cluster.LeaderAsync(ElectionDeadline);
        foreach (var q in cluster.Running)
        {
            using var cts = new CancellationTokenSource(ElectionDeadline);
            var ids = BrokerIds(await q.ReadAsync(cts.Token));
            Assert.Equal(Enumerable.Range(1, 6), ids.Where(id => id != 99));
        }
    }

    /// <summary>
    /// The committed metadata change the nemesis once saw vanish: voter 2 lags while 1 and 3 commit; 1 and 3 stop and
    /// 3's disk is wiped; 2 and 3 start. Had the wiped voter voted with its empty log, 2 (without the records) would be
    /// elected and the records gone. It does not vote until the controller has caught it up, so nobody is elected
    /// until 1 is back, and then every voter holds every record; the wiped voter joins the voters by itself.
    /// </summary>
    [Fact]
    public async Task A_voter_whose_disk_was_wiped_does_not_vote_until_it_has_caught_up()
    {
        await using var cluster = new QuorumTestCluster();
        await cluster.StartAsync(1, 2, 3);
        var leader = await cluster.LeaderAsync(ElectionDeadline);
        Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, Broker(1)));
        await cluster.StopAsync(2);
        leader = await cluster.LeaderAsync(ElectionDeadline);
        for (var i = 2; i <= 6; i++) Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, Broker(i)));
        await cluster.StopAsync(1, 3);
        cluster.Wipe(3);

        await cluster.StartAsync(2, 3);
        Assert.True(cluster[3].IsCatchingUp);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => QuorumTestCluster.ProposeAsync(cluster[2], Broker(99), TimeSpan.FromSeconds(6)));
        Assert.False(cluster[2].IsController);
        Assert.False(cluster[3].IsController);

        await cluster.StartAsync(1);
        leader = await cluster.LeaderAsync(ElectionDeadline);
        Assert.Equal(1, leader.NodeId); // the only voter with every record; 3 does not vote, and 1 votes for nobody behind it
        await global::Broker.Tests.Eventually.TrueAsync(() => Task.FromResult(!cluster[3].IsCatchingUp), ElectionDeadline, "the wiped voter joins the voters once caught up");
        Assert.False(QuorumDirectory.IsCatchingUp(cluster.Settings[2].Directory));
        foreach (var q in cluster.Running)
        {
            using var cts = new CancellationTokenSource(ElectionDeadline);
            Assert.Equal(Enumerable.Range(1, 6), BrokerIds(await q.ReadAsync(cts.Token)).Where(id => id != 99));
        }

        // Now a voter like the others: with 1 stopped, 2 and 3 elect and commit.
        await cluster.StopAsync(1);
        leader = await cluster.LeaderAsync(ElectionDeadline);
        Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(cluster[3], Broker(7)));
    }

    /// <summary>
    /// A new cluster whose voters all formatted their directories themselves (as nodes do on new data directories): none
    /// votes at first; once each has heard from every other that no log exists (NewVoterRule), they join and elect.
    /// </summary>
    [Fact]
    public async Task New_voters_that_find_no_log_anywhere_join_and_elect()
    {
        await using var cluster = new QuorumTestCluster(catchingUp: true);
        await cluster.StartAsync(1, 2, 3);
        Assert.All(cluster.Running, q => Assert.True(q.IsCatchingUp));
        Assert.All(cluster.Running, q => Assert.False(q.IsController));

        var states = cluster.Running.ToDictionary(q => q.NodeId, q => new VoterLogState(q.NodeId, q.LastLogIndex, q.IsCatchingUp));
        foreach (var q in cluster.Running.ToArray())
        {
            var others = states.Keys.Where(id => id != q.NodeId).ToArray();
            var decision = NewVoterRule.Decide(q.LastLogIndex, others, states.Where(kv => kv.Key != q.NodeId).ToDictionary());
            var join = Assert.IsType<JoinNewCluster>(decision);
            using var cts = new CancellationTokenSource(ElectionDeadline);
            await q.JoinVotersAsync(join.Why, cts.Token);
            Assert.False(q.IsCatchingUp);
        }
        var leader = await cluster.LeaderAsync(ElectionDeadline);
        Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, Broker(1)));

        // A voter that starts later on a new directory finds a log, waits, and is caught up by the controller.
        await cluster.StopAsync(2);
        cluster.Wipe(2);
        await cluster.StartAsync(2);
        var late = cluster[2];
        Assert.IsType<WaitForCatchUp>(NewVoterRule.Decide(late.LastLogIndex, [1, 3], new Dictionary<int, VoterLogState> { [1] = new(1, cluster[1].LastLogIndex, false) }));
        await global::Broker.Tests.Eventually.TrueAsync(() => Task.FromResult(!late.IsCatchingUp), ElectionDeadline, "the late voter caught up and joined");
        Assert.Equal([1], BrokerIds(late.Image));
    }

    /// <summary>
    /// Snapshots every 5 entries and records larger than a WAL chunk (4 KiB; DotNext #292 corrupted entries straddling
    /// chunks in 6.5.0): a voter that was down catches up, and a full restart restores snapshot plus log tail.
    /// </summary>
    [Fact]
    public async Task Snapshots_and_records_larger_than_a_log_chunk_survive_catch_up_and_full_restart()
    {
        await using var cluster = new QuorumTestCluster(snapshotEvery: 5);
        await cluster.StartAsync(1, 2, 3);
        var leader = await cluster.LeaderAsync(ElectionDeadline);
        for (var i = 1; i <= 3; i++)
        {
            Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, Broker(i)));
            Assert.IsType<BrokerFenceChanged>(await QuorumTestCluster.ProposeAsync(leader, new UnfenceBroker(i, leader.Image.Brokers[i].BrokerEpoch)));
        }
        var lagging = leader.NodeId % 3 + 1;
        await cluster.StopAsync(lagging);
        leader = await cluster.LeaderAsync(ElectionDeadline);
        var none = ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);
        for (var t = 0; t < 12; t++)
        {
            // 600 partitions x 3 replicas: about 10 KiB per entry, more than two 4 KiB chunks.
            var assignments = Enumerable.Range(0, 600).Select(p => ImmutableArray.Create(p % 3 + 1, (p + 1) % 3 + 1, (p + 2) % 3 + 1)).ToImmutableArray();
            Assert.IsType<TopicCreated>(await QuorumTestCluster.ProposeAsync(leader, new CreateTopic($"topic-{t}", $"id-{t}", 3, none, assignments)));
        }
        await cluster.StartAsync(lagging);
        using (var cts = new CancellationTokenSource(ElectionDeadline))
        {
            var caughtUp = await cluster[lagging].ReadAsync(cts.Token);
            Assert.Equal(12, caughtUp.Topics.Count);
            Assert.Equal(600, caughtUp.TopicByName("topic-11")!.PartitionCount);
        }
        var expected = MetadataCodec.Encode(leader.Image with { AppliedIndex = 0 });
        var snapshots = Path.Combine(QuorumDirectory.LogDirectory(cluster.Settings[leader.NodeId - 1].Directory), "snapshots");
        Assert.NotEmpty(Directory.EnumerateFiles(snapshots, "*", SearchOption.AllDirectories));

        await cluster.StopAsync(1, 2, 3);
        await cluster.StartAsync(3, 2, 1);
        await cluster.LeaderAsync(ElectionDeadline);
        foreach (var q in cluster.Running)
        {
            using var cts = new CancellationTokenSource(ElectionDeadline);
            var image = await q.ReadAsync(cts.Token);
            Assert.Equal(expected, MetadataCodec.Encode(image with { AppliedIndex = 0 }));
        }
    }

    [Fact]
    public async Task A_subscriber_that_throws_does_not_stop_its_voter_from_applying_the_log()
    {
        await using var cluster = new QuorumTestCluster();
        await cluster.StartAsync(1, 2, 3);
        var seen = 0;
        using var faulty = cluster[1].Subscribe(_ =>
        {
            Interlocked.Increment(ref seen);
            throw new InvalidOperationException("a subscriber bug");
        });
        var leader = await cluster.LeaderAsync(ElectionDeadline);
        for (var i = 1; i <= 3; i++) Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, Broker(i)));
        using var cts = new CancellationTokenSource(ElectionDeadline);
        var image = await cluster[1].ReadAsync(cts.Token);
        Assert.Equal([1, 2, 3], BrokerIds(image));
        Assert.Equal(3, Volatile.Read(ref seen));
    }

    [Fact]
    public async Task A_proposal_made_before_a_majority_is_up_commits_once_it_is()
    {
        await using var cluster = new QuorumTestCluster();
        await cluster.StartAsync(1);
        var pending = QuorumTestCluster.ProposeAsync(cluster[1], Broker(7), TimeSpan.FromSeconds(30));
        await Task.WhenAny(pending, Task.Delay(TimeSpan.FromSeconds(3)));
        Assert.False(pending.IsCompleted, "voter 1 alone must not commit");
        await cluster.StartAsync(2);
        Assert.IsType<BrokerRegistered>(await pending);
        var leader = await cluster.LeaderAsync(ElectionDeadline);
        Assert.Equal([7], BrokerIds(leader.Image));
    }

    [Fact]
    public async Task A_voter_that_fails_to_start_releases_its_log_so_it_can_start_again()
    {
        await using var cluster = new QuorumTestCluster();
        var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            var settings = cluster.Settings[0] with { ControllerEndpoint = (System.Net.IPEndPoint)taken.LocalEndpoint };
            await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => MetadataQuorum.StartAsync(settings));
        }
        finally
        {
            taken.Stop();
        }
        await cluster.StartAsync(1, 2);
        var leader = await cluster.LeaderAsync(ElectionDeadline);
        Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, Broker(1)));
    }

    /// <summary>Entries carry an XxHash64 checked on replay: a voter whose log was corrupted on disk does not start (so it does not vote with it).</summary>
    [Fact]
    public async Task A_voter_whose_log_is_corrupted_on_disk_refuses_to_start()
    {
        await using var cluster = new QuorumTestCluster();
        await cluster.StartAsync(1, 2, 3);
        var leader = await cluster.LeaderAsync(ElectionDeadline);
        for (var i = 1; i <= 5; i++) Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(leader, Broker(i)));
        var victim = leader.NodeId % 3 + 1;
        using (var cts = new CancellationTokenSource(ElectionDeadline))
            await cluster[victim].ReadAsync(cts.Token);
        await cluster.StopAsync(victim);

        // The first data chunk holds the entries; flip a byte inside the first RegisterBroker record (manifest "MRB@1").
        var chunk = Path.Combine(QuorumDirectory.LogDirectory(cluster.Settings[victim - 1].Directory), "log", "data", "0");
        var bytes = await File.ReadAllBytesAsync(chunk);
        var at = bytes.AsSpan().IndexOf("MRB@1"u8);
        Assert.True(at >= 0, "the chunk holds a RegisterBroker record");
        bytes[at + 8] ^= 0xFF;
        await File.WriteAllBytesAsync(chunk, bytes);

        await Assert.ThrowsAsync<DotNext.Net.Cluster.Consensus.Raft.StateMachine.WriteAheadLog.HashMismatchException>(() => cluster.StartAsync(victim));
    }
}
