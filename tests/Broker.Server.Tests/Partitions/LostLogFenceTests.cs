using System.Collections.Immutable;
using Broker.Server.Metadata;
using Broker.Server.Partitions;
using Xunit;

namespace Broker.Server.Tests.Partitions;

/// <summary>A node on a new or wiped data directory leaves every ISR before it can lead (KAFKA-15586).</summary>
public sealed class LostLogFenceTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "broker-fence-" + Guid.NewGuid().ToString("N"));

    private static PartitionStateTable Table(params (string Key, PartitionState State)[] entries) =>
        new(entries.ToImmutableSortedDictionary(e => e.Key, e => e.State, StringComparer.Ordinal));

    private static readonly string[] Changed = ["t/0", "t/1", "t/3"];

    [Fact]
    public void The_node_leaves_every_isr_and_a_partition_it_led_goes_offline_in_a_new_epoch()
    {
        var table = Table(
            ("t/0", new PartitionState(3, 2, 1, [1, 2, 3])),
            ("t/1", new PartitionState(4, 1, 2, [2, 1])),
            ("t/2", new PartitionState(5, 0, 2, [2, 3])),
            ("t/3", new PartitionState(6, 0, 1, [1])));
        var fenced = LostLogFence.Without(table, nodeId: 1);

        Assert.Equal(new PartitionState(4, 0, PartitionState.NoLeader, [2, 3]).ToString(), fenced.Get("t/0")!.ToString());
        Assert.Equal(new PartitionState(4, 2, 2, [2]).ToString(), fenced.Get("t/1")!.ToString());
        Assert.Same(table.Get("t/2"), fenced.Get("t/2"));
        // Its only in-sync replica lost its data: offline, not led by an empty log.
        Assert.Equal(new PartitionState(7, 0, PartitionState.NoLeader, []).ToString(), fenced.Get("t/3")!.ToString());
        Assert.All(fenced.Entries.Values, s => Assert.False(s.InIsr(1)));
        foreach (var key in Changed) Assert.True(fenced.Get(key)!.CompareTo(table.Get(key)) > 0, $"{key} must sort after its old state");
    }

    [Fact]
    public void A_partition_that_never_had_a_leader_keeps_the_node_in_its_isr()
    {
        // Created (epoch 0, no leader) while the node's fence waited for the quorum: nothing was ever acknowledged in it.
        var table = Table(
            ("new/0", new PartitionState(0, 0, PartitionState.NoLeader, [1, 2])),
            ("old/0", new PartitionState(1, 0, 2, [2, 1])));
        var fenced = LostLogFence.Without(table, nodeId: 1);

        Assert.Same(table.Get("new/0"), fenced.Get("new/0"));
        Assert.Equal(new PartitionState(1, 1, 2, [2]).ToString(), fenced.Get("old/0")!.ToString());
    }

    [Fact]
    public void A_node_in_no_isr_changes_nothing()
    {
        var table = Table(("t/0", new PartitionState(3, 2, 2, [2, 3])));
        Assert.Same(table, LostLogFence.Without(table, nodeId: 1));
    }

    [Fact]
    public void The_fence_stays_pending_across_restarts_until_it_is_done_and_an_existing_directory_never_starts_one()
    {
        Assert.False(LostLogFence.Pending(_dir, newDirectory: false));
        Assert.True(LostLogFence.Pending(_dir, newDirectory: true));
        Assert.True(LostLogFence.Pending(_dir, newDirectory: false)); // died before the change was committed
        LostLogFence.Done(_dir);
        Assert.False(LostLogFence.Pending(_dir, newDirectory: false));
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
