using Broker.Protocol;
using Broker.Server.Partitions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Server.Tests.Partitions;

/// <summary>
/// What a following replica makes of its leader's answers, on the plain class: which fetch counts, stale leaders,
/// divergence and where to truncate (KIP-101/279), a leader whose log starts past ours, and contiguous appends.
/// </summary>
public sealed class FollowerStateTests
{
    private readonly FakeTimeProvider _clock = new(TestBatches.Now);
    private readonly FollowerState _follower = new();

    private static ReplicaFetchResult Answer(long fetchId, int leaderEpoch = 3, long highWatermark = 0, long logStart = 0,
        int divergingEpoch = -1, long divergingEnd = -1, byte[]? records = null, ErrorCode error = ErrorCode.None) =>
        new("t", 0, fetchId, error, error == ErrorCode.None ? null : "refused", leaderEpoch, 2, highWatermark, logStart,
            divergingEpoch, divergingEnd, records ?? ReadOnlyMemory<byte>.Empty);

    [Fact]
    public void The_next_fetch_starts_at_the_log_end_and_names_the_epoch_of_the_last_batch()
    {
        var log = TestBatches.Log(_clock, 10, 0, 1, 1);
        var fetch = _follower.NextFetch("t", 0, 3, log, 1024, 500);
        Assert.Equal(30, fetch.LogEndOffset);
        Assert.Equal(1, fetch.LastFetchedEpoch);
        Assert.Equal("topic-id", fetch.TopicId);
        Assert.Equal(1, fetch.FetchId);
        Assert.True(_follower.IsCurrent(1));
        Assert.Equal(2, _follower.NextFetch("t", 0, 3, log, 1024, 500).FetchId);
        Assert.False(_follower.IsCurrent(1));
    }

    [Fact]
    public void An_answer_to_an_abandoned_fetch_is_ignored()
    {
        var log = TestBatches.Log(_clock, 10, 0);
        _follower.NextFetch("t", 0, 3, log, 1024, 500);
        _follower.NextFetch("t", 0, 3, log, 1024, 500);
        Assert.IsType<FollowerState.Step.Ignore>(_follower.OnFetched(Answer(1), log));
    }

    [Fact]
    public void A_refused_fetch_and_a_stale_leaders_answer_are_retried_later()
    {
        var log = TestBatches.Log(_clock, 10, 0);
        var id = _follower.NextFetch("t", 0, 3, log, 1024, 500).FetchId;
        var refused = Assert.IsType<FollowerState.Step.RetryLater>(_follower.OnFetched(Answer(id, error: ErrorCode.NotLeader), log));
        Assert.False(refused.FromStaleLeader);

        id = _follower.NextFetch("t", 0, 3, log, 1024, 500).FetchId;
        Assert.IsType<FollowerState.Step.Append>(_follower.OnFetched(Answer(id, leaderEpoch: 5), log));
        Assert.Equal(5, _follower.KnownLeaderEpoch);

        id = _follower.NextFetch("t", 0, 3, log, 1024, 500).FetchId;
        var stale = Assert.IsType<FollowerState.Step.RetryLater>(_follower.OnFetched(Answer(id, leaderEpoch: 4), log));
        Assert.True(stale.FromStaleLeader);
        Assert.Equal(5, _follower.KnownLeaderEpoch);
    }

    [Theory]
    [InlineData(new[] { 0, 1, 1, 1 }, 1, 25L, 25L)] // we led epoch 1 to 40 unreplicated; the leader's epoch 1 ended at 25
    [InlineData(new[] { 0, 2 }, 0, 15L, 10L)]       // the leader's epoch 0 ended at 15, ours at 10 (we never saw epoch 1)
    public void A_divergent_suffix_is_truncated_to_where_the_epoch_ends_on_both_sides(int[] epochs, int divergingEpoch, long divergingEnd, long cut)
    {
        var log = TestBatches.Log(_clock, 10, epochs);
        var id = _follower.NextFetch("t", 0, 3, log, 1024, 500).FetchId;
        var truncate = Assert.IsType<FollowerState.Step.Truncate>(_follower.OnFetched(Answer(id, divergingEpoch: divergingEpoch, divergingEnd: divergingEnd), log));
        Assert.Equal(cut, truncate.Offset);
    }

    [Fact]
    public void A_divergence_at_or_past_our_log_end_truncates_nothing()
    {
        var log = TestBatches.Log(_clock, 10, 0, 0);
        var id = _follower.NextFetch("t", 0, 3, log, 1024, 500).FetchId;
        Assert.IsType<FollowerState.Step.FetchAgain>(_follower.OnFetched(Answer(id, divergingEpoch: 0, divergingEnd: 20), log));
    }

    [Fact]
    public void A_leader_whose_log_starts_past_our_end_moves_our_start_there()
    {
        var log = TestBatches.Log(_clock, 10, 0);
        var id = _follower.NextFetch("t", 0, 3, log, 1024, 500).FetchId;
        var start = Assert.IsType<FollowerState.Step.StartAt>(_follower.OnFetched(Answer(id, logStart: 50), log));
        Assert.Equal(50, start.Offset);
    }

    [Fact]
    public void Only_batches_contiguous_with_the_log_are_appended()
    {
        var log = TestBatches.Log(_clock, 10, 0);
        var records = TestBatches.Batch(10, 5, 3).Concat(TestBatches.Batch(15, 5, 3)).Concat(TestBatches.Batch(30, 5, 3)).ToArray();
        var id = _follower.NextFetch("t", 0, 3, log, 1024, 500).FetchId;
        var append = Assert.IsType<FollowerState.Step.Append>(_follower.OnFetched(Answer(id, highWatermark: 12, records: records), log));
        Assert.Equal(2, append.Batches.Count);
        Assert.Equal(12, append.LeaderHighWatermark);

        log.Appended(append.Batches[0], 2);
        log.Appended(append.Batches[1], 3);
        Assert.Equal(20, log.LogEnd);
        Assert.True(log.FollowHighWatermark(append.LeaderHighWatermark));
        Assert.Equal(12, log.HighWatermark);
    }

    [Fact]
    public void A_gap_in_the_answer_appends_nothing()
    {
        var log = TestBatches.Log(_clock, 10, 0);
        var id = _follower.NextFetch("t", 0, 3, log, 1024, 500).FetchId;
        var append = Assert.IsType<FollowerState.Step.Append>(_follower.OnFetched(Answer(id, highWatermark: 40, records: TestBatches.Batch(20, 5, 3)), log));
        Assert.Empty(append.Batches);
        Assert.True(log.FollowHighWatermark(append.LeaderHighWatermark));
        Assert.Equal(10, log.HighWatermark); // a follower's high watermark never passes its own log end
    }

    [Fact]
    public void The_log_start_follows_the_leaders_up_to_the_high_watermark_and_never_back()
    {
        var log = TestBatches.Log(_clock, 10, 0, 0, 0);
        Assert.True(log.FollowHighWatermark(20));
        Assert.Null(FollowerState.FollowedLogStart(0, log));
        Assert.Equal(20, FollowerState.FollowedLogStart(25, log)); // what this replica has not seen committed is not dropped
        log.DropBefore(FollowerState.FollowedLogStart(10, log)!.Value);
        Assert.Equal(10, log.LogStart);
        Assert.Null(FollowerState.FollowedLogStart(5, log)); // a leader whose log starts earlier does not bring records back
    }
}
