using Broker.Server.Kafka;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Server.Tests.Kafka;

/// <summary>KIP-227's session rules as Kafka's FetchSessionCache applies them, on a fake clock.</summary>
public sealed class FetchSessionCacheTests
{
    private static readonly TimeSpan EvictionAge = TimeSpan.FromMinutes(2);
    private readonly FakeTimeProvider _clock = new();

    private FetchSessionCache Cache(int slots) => new(slots, _clock, EvictionAge);

    private static RequestedPartition[] Partitions(int count, long offset = 0) =>
        [.. Enumerable.Range(0, count).Select(p => new RequestedPartition("orders", Guid.Empty, p, offset, 1024, -1))];

    private static FetchSession Open(FetchSessionCache cache, int partitions) =>
        Assert.IsType<FetchContext.Full>(cache.Open(0, 0, Partitions(partitions), [])).NewSession!;

    [Fact]
    public void Epoch_0_opens_a_session_that_continues_at_epoch_1_and_counts_up()
    {
        var cache = Cache(10);
        var session = Open(cache, 2);
        Assert.NotEqual(0, session.Id);
        Assert.Equal(2, session.Size);

        var first = Assert.IsType<FetchContext.Incremental>(cache.Open(session.Id, 1, [], []));
        Assert.Same(session, first.Session);
        Assert.IsType<FetchContext.Incremental>(cache.Open(session.Id, 2, [], []));
        Assert.Equal(3, session.NextEpoch);
    }

    [Fact]
    public void An_incremental_fetch_updates_named_partitions_adds_new_ones_and_drops_forgotten_ones()
    {
        var cache = Cache(10);
        var session = Open(cache, 3);
        var moved = new RequestedPartition("orders", Guid.Empty, 1, 500, 2048, 4);
        var added = new RequestedPartition("payments", Guid.Empty, 0, 7, 1024, -1);

        cache.Open(session.Id, 1, [moved, added], [new ForgottenPartition("orders", Guid.Empty, 2)]);

        Assert.Equal(["orders-0", "orders-1", "payments-0"], session.Partitions.Select(p => $"{p.Topic}-{p.Partition}"));
        var p1 = session.Find("orders", 1)!;
        Assert.Equal((500L, 2048, 4), (p1.FetchOffset, p1.PartitionMaxBytes, p1.CurrentLeaderEpoch));
    }

    [Fact]
    public void From_v13_a_forgotten_partition_is_matched_by_topic_id()
    {
        var cache = Cache(10);
        var id = Guid.NewGuid();
        var session = Assert.IsType<FetchContext.Full>(cache.Open(0, 0, [new RequestedPartition("orders", id, 0, 0, 1024, -1)], [])).NewSession!;

        cache.Open(session.Id, 1, [], [new ForgottenPartition(null, Guid.NewGuid(), 0)]);
        Assert.Equal(1, session.Size); // another topic's id
        cache.Open(session.Id, 2, [], [new ForgottenPartition(null, id, 0)]);
        Assert.Equal(0, session.Size);
    }

    [Fact]
    public void An_unknown_session_id_is_FETCH_SESSION_ID_NOT_FOUND()
    {
        var refused = Assert.IsType<FetchContext.Refused>(Cache(10).Open(12345, 1, [], []));
        Assert.Equal(KafkaErrors.FetchSessionIdNotFound, refused.ErrorCode);
        Assert.Contains("epoch 0", refused.Message); // says how to recover
    }

    [Fact]
    public void A_wrong_epoch_is_INVALID_FETCH_SESSION_EPOCH_and_leaves_the_session_as_it_was()
    {
        var cache = Cache(10);
        var session = Open(cache, 1);

        var replayed = Assert.IsType<FetchContext.Refused>(cache.Open(session.Id, 2, Partitions(5), []));
        Assert.Equal(KafkaErrors.InvalidFetchSessionEpoch, replayed.ErrorCode);
        Assert.Contains("expects epoch 1", replayed.Message);
        Assert.Equal(1, session.Size);
        Assert.IsType<FetchContext.Incremental>(cache.Open(session.Id, 1, [], [])); // the right epoch still works
    }

    [Fact]
    public void Epoch_minus_1_closes_the_session_and_fetches_without_one()
    {
        var cache = Cache(10);
        var session = Open(cache, 1);

        var closing = Assert.IsType<FetchContext.Full>(cache.Open(session.Id, -1, Partitions(1), []));
        Assert.Null(closing.NewSession);
        Assert.False(cache.Contains(session.Id));
        Assert.IsType<FetchContext.Refused>(cache.Open(session.Id, 1, [], []));
    }

    [Fact]
    public void Epoch_0_with_a_session_id_replaces_that_session()
    {
        var cache = Cache(10);
        var old = Open(cache, 1);

        var renewed = Assert.IsType<FetchContext.Full>(cache.Open(old.Id, 0, Partitions(2), [])).NewSession!;
        Assert.NotEqual(old.Id, renewed.Id);
        Assert.False(cache.Contains(old.Id));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void With_no_slots_every_fetch_is_sessionless()
    {
        var full = Assert.IsType<FetchContext.Full>(Cache(0).Open(0, 0, Partitions(1), []));
        Assert.Null(full.NewSession);
    }

    [Fact]
    public void A_full_cache_gives_no_session_while_every_session_is_young_and_recently_used()
    {
        var cache = Cache(2);
        Open(cache, 1);
        Open(cache, 1);

        _clock.Advance(TimeSpan.FromMinutes(1));
        var full = Assert.IsType<FetchContext.Full>(cache.Open(0, 0, Partitions(50), []));
        Assert.Null(full.NewSession);
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void A_full_cache_evicts_the_least_recently_used_session_once_it_has_been_idle_for_the_eviction_age()
    {
        var cache = Cache(2);
        var idle = Open(cache, 5);
        var busy = Open(cache, 5);
        _clock.Advance(TimeSpan.FromMinutes(2));
        cache.Open(busy.Id, 1, [], []); // busy is used; idle is not
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        var newcomer = Assert.IsType<FetchContext.Full>(cache.Open(0, 0, Partitions(1), [])).NewSession;
        Assert.NotNull(newcomer);
        Assert.False(cache.Contains(idle.Id));
        Assert.True(cache.Contains(busy.Id));
    }

    [Fact]
    public void A_full_cache_evicts_the_smallest_session_past_the_eviction_age_only_for_a_larger_one()
    {
        var cache = Cache(2);
        var small = Open(cache, 2);
        var large = Open(cache, 8);
        _clock.Advance(TimeSpan.FromMinutes(3));
        cache.Open(small.Id, 1, [], []); // both used just now: neither is idle
        cache.Open(large.Id, 1, [], []);

        Assert.Null(Assert.IsType<FetchContext.Full>(cache.Open(0, 0, Partitions(2), [])).NewSession); // not larger than the smallest
        Assert.NotNull(Assert.IsType<FetchContext.Full>(cache.Open(0, 0, Partitions(3), [])).NewSession);
        Assert.False(cache.Contains(small.Id));
        Assert.True(cache.Contains(large.Id));
    }

    [Fact]
    public void The_epoch_after_int_MaxValue_is_1()
    {
        Assert.Equal(1, FetchSession.EpochAfter(int.MaxValue));
        Assert.Equal(8, FetchSession.EpochAfter(7));
    }

    [Fact]
    public void A_partition_is_answered_again_only_with_records_an_error_or_a_new_high_watermark_or_log_start()
    {
        var p = new SessionPartition("orders", Guid.Empty, 0);
        Assert.True(p.MustRespond(false, false, 10, 0)); // never sent
        p.Sent(10, 0);
        Assert.False(p.MustRespond(false, false, 10, 0));
        Assert.True(p.MustRespond(true, false, 10, 0));
        Assert.True(p.MustRespond(false, true, 10, 0));
        Assert.True(p.MustRespond(false, false, 11, 0));
        Assert.True(p.MustRespond(false, false, 10, 3));
    }

    [Fact]
    public void A_partition_that_returned_records_moves_behind_the_others()
    {
        var session = Open(Cache(10), 3);
        session.MoveToEnd(session.Find("orders", 0)!);
        Assert.Equal([1, 2, 0], session.Partitions.Select(p => p.Partition));
    }
}
