using System.Collections.Immutable;
using Akka.TestKit.Xunit2;
using Broker.Server.Metadata;
using Xunit;

namespace Broker.Server.Tests.Controller.Quorum;

/// <summary>
/// The broker's metadata tables on three real Raft voters: writes are compare-and-sets decided in log order, reads by a
/// majority are linearizable, and a voter without a majority can neither read nor write.
/// </summary>
public sealed class QuorumMetadataTests() : TestKit("akka.loglevel = WARNING")
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ElectionDeadline = TimeSpan.FromSeconds(15);
    private const string Key = "tid/0";

    private static PartitionState State(int leaderEpoch, int partitionEpoch, int leader, params int[] isr) => new(leaderEpoch, partitionEpoch, leader, [.. isr]);

    /// <summary>An election as the partition actor writes it: only from the state it read, else a conflict.</summary>
    private static Func<PartitionStateTable, PartitionStateTable> Elect(PartitionState read, PartitionState next) => table =>
    {
        if (table.Get(Key) is { } now && now.CompareTo(read) != 0) throw new MetadataConflictException($"moved on to {now}");
        return table.Put(Key, next);
    };

    [Fact]
    public async Task Two_elections_from_the_same_read_commit_exactly_one_on_every_voter()
    {
        await using var cluster = new QuorumTestCluster();
        await cluster.StartAsync(1, 2, 3);
        await cluster.LeaderAsync(ElectionDeadline);
        var stores = Enumerable.Range(1, 3).Select(id => new QuorumMetadata(cluster[id], Timeout)).ToArray();
        var initial = State(0, 0, PartitionState.NoLeader, 1, 2, 3);
        await stores[0].UpdatePartitionsAsync(t => t.Put(Key, initial));

        var first = stores[1].UpdatePartitionsAsync(Elect(initial, State(1, 0, 2, 2, 3)));
        var second = stores[2].UpdatePartitionsAsync(Elect(initial, State(1, 0, 3, 3, 2)));
        var outcomes = await Task.WhenAll(Settle(first), Settle(second));
        Assert.Single(outcomes, o => o is null);
        Assert.Single(outcomes, o => o is MetadataConflictException);

        foreach (var store in stores)
        {
            var committed = (await store.PartitionsAsync(majority: true)).Get(Key)!;
            Assert.Equal(1, committed.LeaderEpoch);
            Assert.True(committed.Leader is 2 or 3, $"leader {committed.Leader}");
        }
    }

    [Fact]
    public async Task A_user_written_on_one_voter_is_read_on_another_with_its_name()
    {
        // The quorum stores each entry as a one-entry table; a user's name is its key there (`broker users list` on a
        // quorum cluster once printed "no user " for alice: the entry had been stored under the key "").
        await using var cluster = new QuorumTestCluster();
        await cluster.StartAsync(1, 2, 3);
        await cluster.LeaderAsync(ElectionDeadline);
        await new QuorumMetadata(cluster[1], Timeout).UpdateUsersAsync(t => t.Put("alice", new UserEntry("alice", [], 1, false)));
        var users = await new QuorumMetadata(cluster[2], Timeout).UsersAsync(majority: true);
        Assert.Equal("alice", users.Find("alice")?.Name);
    }

    [Fact]
    public async Task A_write_from_a_stale_view_is_decided_again_on_the_committed_state()
    {
        await using var cluster = new QuorumTestCluster();
        await cluster.StartAsync(1, 2, 3);
        await cluster.LeaderAsync(ElectionDeadline);
        var a = new QuorumMetadata(cluster[1], Timeout);
        var b = new QuorumMetadata(cluster[2], Timeout);
        await a.UpdatePartitionsAsync(t => t.Put(Key, State(1, 0, 1, 1, 2, 3)));
        await b.UpdatePartitionsAsync(t => t.Put(Key, State(2, 0, 2, 2, 3))); // a newer leader

        // The old leader's ISR change was computed on epoch 1: its modify sees epoch 2 and refuses it.
        var stale = State(1, 0, 1, 1, 2, 3);
        var calls = 0;
        var error = await Assert.ThrowsAsync<MetadataConflictException>(() => a.UpdatePartitionsAsync(t =>
        {
            calls++;
            if (t.Get(Key)!.CompareTo(stale) != 0) throw new MetadataConflictException("partition state moved on");
            return t.Put(Key, stale with { PartitionEpoch = 1, Isr = [1] });
        }));
        Assert.Equal(1, calls);
        Assert.Contains("moved on", error.Message);
        Assert.Equal(2, (await a.PartitionsAsync(majority: true)).Get(Key)!.Leader);
    }

    [Fact]
    public async Task A_voter_without_a_majority_can_neither_read_nor_write_and_nothing_it_tried_is_committed()
    {
        await using var cluster = new QuorumTestCluster();
        await cluster.StartAsync(1, 2, 3);
        await cluster.LeaderAsync(ElectionDeadline);
        var lone = new QuorumMetadata(cluster[1], TimeSpan.FromSeconds(3));
        await lone.UpdateTopicsAsync(t => t); // nothing to write: returns at once
        await cluster.StopAsync(2, 3);

        await Assert.ThrowsAsync<MetadataUnavailableException>(() => lone.PartitionsAsync(majority: true));
        var failed = await Assert.ThrowsAsync<MetadataUnavailableException>(() => lone.UpdatePartitionsAsync(t => t.Put(Key, State(9, 0, 1, 1))));
        Assert.Contains("majority of the voters", failed.Message);

        await cluster.StartAsync(2, 3);
        await cluster.LeaderAsync(ElectionDeadline);
        var other = new QuorumMetadata(cluster[2], Timeout);
        var state = (await other.PartitionsAsync(majority: true)).Get(Key);
        Assert.True(state is null || state.LeaderEpoch != 9, $"the lone voter's write was committed: {state}");
    }

    [Fact]
    public async Task Subscribers_get_each_committed_table_and_only_what_changed_is_shipped()
    {
        await using var cluster = new QuorumTestCluster();
        await cluster.StartAsync(1, 2, 3);
        await cluster.LeaderAsync(ElectionDeadline);
        var store = new QuorumMetadata(cluster[1], Timeout);
        var probe = CreateTestProbe();
        using var subscription = store.Subscribe(probe.Ref, MetadataTable.Partitions);
        probe.ExpectMsg<PartitionStateTable>(t => t.Entries.Count == 0);

        var many = Enumerable.Range(0, 200).ToImmutableSortedDictionary(p => $"tid/{p}", _ => State(0, 0, PartitionState.NoLeader, 1, 2, 3), StringComparer.Ordinal);
        await store.UpdatePartitionsAsync(_ => new PartitionStateTable(many));
        probe.ExpectMsg<PartitionStateTable>(t => t.Entries.Count == 200, TimeSpan.FromSeconds(10));

        var before = cluster.Applied[0].Count;
        await store.UpdatePartitionsAsync(t => t.Put("tid/7", State(1, 0, 2, 2, 3)));
        probe.ExpectMsg<PartitionStateTable>(t => t.Get("tid/7")!.Leader == 2, TimeSpan.FromSeconds(10));
        await AwaitAssertAsync(() => Assert.True(cluster.Applied[0].Count > before));
        var entry = cluster.Applied[0].Last();
        var put = Assert.IsType<Broker.Server.Controller.PutEntries>(entry.Record);
        Assert.Equal("tid/7", Assert.Single(put.Changes).Key);
    }

    private static async Task<Exception?> Settle(Task task)
    {
        try
        {
            await task;
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }
}
