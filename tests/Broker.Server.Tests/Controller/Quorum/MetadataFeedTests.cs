using Broker.Server.Controller;
using Broker.Server.Controller.Quorum;
using Xunit;

namespace Broker.Server.Tests.Controller.Quorum;

/// <summary>What a voter sends an observer: the records it misses, or the whole image when it is too far behind.</summary>
public sealed class MetadataFeedTests
{
    private static RecordApplied Applied(MetadataStateMachine rules, long index, int brokerId)
    {
        var previous = rules.Image;
        var record = new RegisterBroker(brokerId, Guid.NewGuid(), -1);
        var result = rules.Apply(record, index);
        return new RecordApplied(index, record, MetadataCodec.Encode(record), result, previous, rules.Image);
    }

    [Fact]
    public void An_observer_a_little_behind_gets_just_the_records_after_its_index_in_order()
    {
        var rules = new MetadataStateMachine();
        var feed = new MetadataFeed(MetadataImage.Empty);
        foreach (var (index, id) in new[] { (2L, 1), (3L, 2), (5L, 3) }) feed.Applied(Applied(rules, index, id)); // 4: a Raft no-op, never applied

        var answer = feed.Answer(2, controllerId: 1);
        Assert.Null(answer.Snapshot);
        Assert.Equal([3L, 5L], answer.Records.Select(r => r.Index));
        Assert.Equal(2, Assert.IsType<RegisterBroker>(MetadataCodec.DecodeRecord(answer.Records[0].Record)).BrokerId);
        Assert.Equal(5, answer.AppliedIndex);
        Assert.True(feed.IsCaughtUp(5));
        Assert.Empty(feed.Answer(5, 1).Records);
    }

    [Fact]
    public void An_observer_behind_what_the_feed_keeps_gets_the_whole_image()
    {
        var rules = new MetadataStateMachine();
        var feed = new MetadataFeed(MetadataImage.Empty, capacity: 2);
        for (var i = 1; i <= 5; i++) feed.Applied(Applied(rules, i, i));

        var behind = feed.Answer(1, 1); // record 2 fell out of the feed
        var image = Assert.IsType<MetadataImage>(MetadataCodec.Decode(behind.Snapshot!));
        Assert.Equal(Enumerable.Range(1, 5), image.Brokers.Keys);
        Assert.Empty(behind.Records);
        Assert.Equal([4L, 5L], feed.Answer(3, 1).Records.Select(r => r.Index)); // still within it
    }

    [Fact]
    public void A_snapshot_loaded_on_the_voter_replaces_what_the_feed_can_serve_one_by_one()
    {
        var rules = new MetadataStateMachine();
        var feed = new MetadataFeed(MetadataImage.Empty);
        feed.Applied(Applied(rules, 1, 1));
        var installed = new MetadataStateMachine();
        for (var i = 1; i <= 9; i++) installed.Apply(new RegisterBroker(i, Guid.NewGuid(), -1), i);
        feed.Applied(new SnapshotLoaded(9, installed.Image));

        Assert.NotNull(feed.Answer(1, 1).Snapshot);
        Assert.Equal(9, feed.View.AppliedIndex);
    }

    [Fact]
    public void A_reply_stops_at_its_byte_budget_and_the_rest_comes_next_time()
    {
        var rules = new MetadataStateMachine();
        var oneRecord = MetadataCodec.Encode(new RegisterBroker(1, Guid.NewGuid(), -1)).Length;
        var feed = new MetadataFeed(MetadataImage.Empty, maxReplyBytes: oneRecord * 2);
        for (var i = 1; i <= 5; i++) feed.Applied(Applied(rules, i, i));

        var first = feed.Answer(0, 1);
        Assert.Equal([1L, 2L], first.Records.Select(r => r.Index));
        Assert.Equal(5, first.AppliedIndex);
        Assert.Equal([3L, 4L], feed.Answer(2, 1).Records.Select(r => r.Index));
    }

    [Fact]
    public void Records_already_in_the_starting_image_are_not_served_twice()
    {
        var rules = new MetadataStateMachine();
        var early = Applied(rules, 1, 1);
        var feed = new MetadataFeed(rules.Image); // subscribed before reading the image: record 1 also arrives as a change
        feed.Applied(early);
        feed.Applied(Applied(rules, 2, 2));

        Assert.Equal([2L], feed.Answer(1, 1).Records.Select(r => r.Index));
        Assert.NotNull(feed.Answer(0, 1).Snapshot);
    }
}
