using Broker.Protocol.Messages;
using Broker.Server.Partitions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Server.Tests.Partitions;

/// <summary>
/// The replica's log on the plain class (no journal, no actor): offsets assigned ahead of the log end while appends
/// are in flight, truncation, divergence, retention and the high watermark's bounds, snapshots.
/// </summary>
public sealed class PartitionLogStateTests
{
    private readonly FakeTimeProvider _clock = new(TestBatches.Now);

    [Fact]
    public void Appends_in_flight_at_step_down_must_land_before_the_replica_fetches_and_no_two_batches_share_a_base_offset()
    {
        var log = TestBatches.Log(_clock, 10, 0);
        var first = log.AssignOffsets(5);
        var second = log.AssignOffsets(5);
        Assert.Equal(10, first);
        Assert.Equal(15, second);
        Assert.True(log.AppendsInFlight);

        // The leader steps down here: as a follower it would fetch from log end 10, where its own writes still land.
        log.Appended(TestBatches.Batch(first, 5, 0), 2);
        Assert.True(log.AppendsInFlight);
        log.Appended(TestBatches.Batch(second, 5, 0), 3);
        Assert.False(log.AppendsInFlight);
        Assert.Equal(20, log.LogEnd);

        // Now it may fetch (from 20) or start a new epoch (at 20): the next offset follows the landed batches.
        Assert.Equal(20, log.AssignOffsets(1));
    }

    [Fact]
    public void A_follower_append_or_truncation_settles_the_next_offset_at_the_log_end()
    {
        var log = TestBatches.Log(_clock, 10, 0, 0);
        log.TruncateTo(10);
        log.SettleNextOffset();
        Assert.False(log.AppendsInFlight);
        Assert.Equal(10, log.AssignOffsets(3));
    }

    [Fact]
    public void Truncation_drops_whole_batches_after_the_offset_and_lowers_the_high_watermark()
    {
        var log = TestBatches.Log(_clock, 10, 0, 1, 2);
        log.AdvanceHighWatermark(30);
        log.TruncateTo(20);
        Assert.Equal(20, log.LogEnd);
        Assert.Equal(20, log.HighWatermark);
        Assert.Equal(1, log.Epochs.LatestEpoch);

        log.TruncateTo(15); // the batch 10..19 holds offsets past 15: it goes whole
        Assert.Equal(10, log.LogEnd);
        Assert.Equal(10, log.HighWatermark);
        Assert.Equal(0, log.Epochs.LatestEpoch);
        Assert.Equal(1, log.Index.Count);
    }

    [Fact]
    public void A_follower_whose_last_epoch_ends_earlier_here_diverges()
    {
        var log = TestBatches.Log(_clock, 10, 0, 0, 2); // epoch 0 ends at 20, epoch 2 at 30
        Assert.Null(log.DivergenceFrom(lastFetchedEpoch: 0, followerLogEnd: 20));
        Assert.Null(log.DivergenceFrom(lastFetchedEpoch: 2, followerLogEnd: 25));
        Assert.Null(log.DivergenceFrom(lastFetchedEpoch: -1, followerLogEnd: 5));
        Assert.Equal((0, 20L), log.DivergenceFrom(lastFetchedEpoch: 0, followerLogEnd: 25));
        Assert.Equal((0, 20L), log.DivergenceFrom(lastFetchedEpoch: 1, followerLogEnd: 25)); // epoch 1 never led here
    }

    [Fact]
    public void Retention_removes_only_committed_batches()
    {
        var old = TestBatches.Now.ToUnixTimeMilliseconds() - 60_000;
        var log = new PartitionLog(1 << 20, _clock);
        log.StartIncarnation("topic-id");
        for (var i = 0; i < 4; i++) log.Appended(TestBatches.Batch(i * 10, 10, 0, old), i + 1);
        log.AdvanceHighWatermark(20);

        var dropped = log.ApplyRetention(retentionMs: 1_000, retentionBytes: -1, out var deleteTo);
        Assert.Equal(2, dropped);
        Assert.Equal(2, deleteTo);
        Assert.Equal(20, log.LogStart);
        Assert.Equal(0, log.ApplyRetention(retentionMs: 1_000, retentionBytes: -1, out _));
    }

    [Fact]
    public void Retention_by_size_keeps_the_newest_batches_within_the_limit()
    {
        var log = TestBatches.Log(_clock, 10, 0, 0, 0);
        log.AdvanceHighWatermark(30);
        var size = log.Index.Size(0);
        Assert.Equal(1, log.ApplyRetention(retentionMs: -1, retentionBytes: 2 * size, out _));
        Assert.Equal(10, log.LogStart);
    }

    [Fact]
    public void Starting_the_log_past_its_end_clears_it()
    {
        var log = TestBatches.Log(_clock, 10, 0);
        log.StartLogAt(50);
        Assert.Equal(50, log.LogStart);
        Assert.Equal(50, log.LogEnd);
        Assert.Equal(50, log.HighWatermark);
        Assert.Equal(0, log.Index.Count);
        Assert.Equal(-1, log.Epochs.LatestEpoch);
    }

    [Fact]
    public void A_follower_high_watermark_stops_at_its_log_end_and_never_moves_back()
    {
        var log = TestBatches.Log(_clock, 10, 0);
        Assert.True(log.FollowHighWatermark(100));
        Assert.Equal(10, log.HighWatermark);
        Assert.False(log.FollowHighWatermark(5));
        Assert.Equal(10, log.HighWatermark);
    }

    [Fact]
    public void A_snapshot_restores_the_same_log()
    {
        var log = TestBatches.Log(_clock, 10, 0, 1);
        log.AdvanceHighWatermark(15);
        var restored = new PartitionLog(1 << 20, _clock);
        restored.Restore(log.ToSnapshot(), new Queue<long>());
        Assert.Equal(log.LogEnd, restored.LogEnd);
        Assert.Equal(log.NextOffset, restored.NextOffset);
        Assert.Equal(15, restored.HighWatermark);
        Assert.Equal(1, restored.Epochs.LatestEpoch);
        Assert.Equal("topic-id", restored.TopicId);
        Assert.Equal(2, restored.Index.Count);
    }

    [Fact]
    public void A_snapshot_saved_before_the_log_knew_its_topic_restores_as_a_log_of_no_incarnation()
    {
        var restored = new PartitionLog(1 << 20, _clock);
        restored.Restore(new PartitionSnapshot(null!, 0, 0, [], [], [], [], []), new Queue<long>()); // an older writer's null id
        Assert.Null(restored.TopicId);
        restored.Restore(new PartitionLog(1 << 20, _clock).ToSnapshot(), new Queue<long>());
        Assert.Null(restored.TopicId);
    }

    [Fact]
    public void A_timestamp_is_found_only_in_committed_batches()
    {
        var log = new PartitionLog(1 << 20, _clock);
        log.StartIncarnation("topic-id");
        long[] times = [1_000, 3_000, 2_000, 9_000];
        for (var i = 0; i < times.Length; i++) log.Appended(TestBatches.Batch(i * 10, 10, 0, times[i]), i + 1);
        log.AdvanceHighWatermark(30);

        Assert.Equal(1, log.FindCommittedBatch(2_500, out var target));
        Assert.Equal(2_500, target);
        Assert.Equal(-1, log.FindCommittedBatch(5_000, out _)); // only the uncommitted batch reaches it
        Assert.Equal(1, log.FindCommittedBatch(OffsetSpec.MaxTimestamp, out target));
        Assert.Equal(3_000, target);
    }
}
