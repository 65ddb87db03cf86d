namespace Broker.Server.Partitions;

/// <summary>
/// What a leader knows of one follower, from its fetches: how far its log is on disk (its log end offset)
/// and when it was last caught up (Kafka's lastCaughtUpTimeMs: the follower reached the leader's log end as
/// it was at the follower's previous fetch). A follower that has not been caught up for
/// replica.lag.time.max.ms leaves the ISR.
/// </summary>
public sealed class FollowerProgress(int nodeId, long nowMs)
{
    private long _leaderEndAtPreviousFetch = -1;
    private long _previousFetchMs = nowMs;

    public int NodeId { get; } = nodeId;

    /// <summary>The follower's durable log end; -1 until its first fetch under this leader.</summary>
    public long LogEndOffset { get; private set; } = -1;

    public long LastCaughtUpMs { get; private set; } = nowMs;

    public long LastFetchMs { get; private set; } = nowMs;

    public void OnFetch(long followerLogEnd, long leaderLogEnd, long nowMs)
    {
        LogEndOffset = followerLogEnd;
        if (followerLogEnd >= leaderLogEnd) LastCaughtUpMs = nowMs;
        else if (_leaderEndAtPreviousFetch >= 0 && followerLogEnd >= _leaderEndAtPreviousFetch) LastCaughtUpMs = Math.Max(LastCaughtUpMs, _previousFetchMs);
        _leaderEndAtPreviousFetch = leaderLogEnd;
        _previousFetchMs = nowMs;
        LastFetchMs = nowMs;
    }
}
