using Broker.Server.Groups;
using Xunit;

namespace Broker.Server.Tests.Groups;

/// <summary>
/// When a __consumer_offsets partition's groups write their snapshots, and where its log may then start: at the
/// lowest snapshot once every group (including one started during the round) has answered, never before.
/// </summary>
public sealed class GroupCheckpointsTests
{
    private readonly GroupCheckpoints _checkpoints = new(afterRecords: 100);

    [Fact]
    public void A_round_is_due_when_the_log_holds_more_than_the_threshold_and_twice_the_groups()
    {
        Assert.False(_checkpoints.Due(logStart: 0, logEnd: 100, groups: 3));
        Assert.True(_checkpoints.Due(logStart: 0, logEnd: 101, groups: 3));
        Assert.False(_checkpoints.Due(logStart: 50, logEnd: 150, groups: 3)); // counted from the log start
        Assert.False(_checkpoints.Due(logStart: 0, logEnd: 150, groups: 80)); // a round writes 80 snapshots: not yet worth it
        Assert.True(_checkpoints.Due(logStart: 0, logEnd: 161, groups: 80));
    }

    [Fact]
    public void The_log_may_start_at_the_lowest_snapshot_once_every_group_answered()
    {
        var round = _checkpoints.Begin(["a", "b", "gone"], logEnd: 500);
        Assert.False(_checkpoints.Due(0, 10_000, 1)); // one round at a time
        Assert.Null(_checkpoints.Answered(round, "b", 507));
        Assert.Null(_checkpoints.Answered(round, "gone", null));
        Assert.Null(_checkpoints.Answered(round, "b", 509)); // an answer twice counts once
        Assert.Equal(503, _checkpoints.Answered(round, "a", 503));
        Assert.Equal(0, _checkpoints.Round);
    }

    [Fact]
    public void A_group_started_during_the_round_must_answer_too()
    {
        var round = _checkpoints.Begin(["a"], logEnd: 500);
        _checkpoints.Joined("new");
        Assert.Null(_checkpoints.Answered(round, "a", 510));
        Assert.Equal(505, _checkpoints.Answered(round, "new", 505)); // its first write landed below a's snapshot
    }

    [Fact]
    public void With_no_group_left_the_log_may_start_where_the_round_began()
    {
        var round = _checkpoints.Begin(["deleted"], logEnd: 500);
        Assert.Equal(500, _checkpoints.Answered(round, "deleted", null));
    }

    [Fact]
    public void An_abandoned_round_trims_nothing_and_its_late_answers_count_for_nothing()
    {
        var first = _checkpoints.Begin(["a", "b"], logEnd: 500);
        Assert.Null(_checkpoints.Answered(first, "a", 501));
        _checkpoints.Abandon();
        Assert.Null(_checkpoints.Answered(first, "b", 502));

        var second = _checkpoints.Begin(["a", "b"], logEnd: 600);
        Assert.NotEqual(first, second);
        Assert.Null(_checkpoints.Answered(first, "a", 501));
        Assert.Null(_checkpoints.Answered(second, "a", 601));
        Assert.Equal(601, _checkpoints.Answered(second, "b", 602));
    }
}
