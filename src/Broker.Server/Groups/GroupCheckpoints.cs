namespace Broker.Server.Groups;

/// <summary>
/// Keeps a <see cref="OffsetsTopic"/> partition's log short, so a new leader reads back a bounded amount however many
/// events its groups ever wrote (Kafka compacts __consumer_offsets; here the coordinators snapshot into it and the
/// log start moves up, as DeleteRecords moves it). When the log holds more than <c>checkpoint-after-records</c>
/// records (and at least twice as many as there are groups, so a round always frees more than it writes), a round
/// begins: every group of the partition writes its <see cref="GroupSnapshot"/> (or says it does not exist). A group
/// answers only after its own earlier writes are committed, and its state is then fully in the records from its
/// snapshot on; so once every group has answered, everything below the lowest snapshot is superseded and the log may
/// start there (at the log end the round began at when no group exists). Groups started during a round join it.
/// No Akka type and no clock: the host asks <see cref="Due"/> on its timer.
/// </summary>
internal sealed class GroupCheckpoints(long afterRecords)
{
    private readonly HashSet<string> _waiting = new(StringComparer.Ordinal);
    private long _lowestSnapshot = long.MaxValue;
    private long _roundLogEnd;
    private long _lastRound;

    /// <summary>The round in progress (its answers carry it), or 0 between rounds.</summary>
    public long Round { get; private set; }

    /// <summary>Whether a round should begin, given the leader's log bounds and how many groups the partition has.</summary>
    public bool Due(long logStart, long logEnd, int groups) =>
        Round == 0 && logEnd - logStart > Math.Max(afterRecords, 2L * groups);

    /// <summary>Begins a round over <paramref name="groups"/> (the host sends each a <see cref="GroupCheckpoint"/> of this round).</summary>
    public long Begin(IEnumerable<string> groups, long logEnd)
    {
        Round = ++_lastRound;
        _waiting.Clear();
        foreach (var g in groups) _waiting.Add(g);
        _lowestSnapshot = long.MaxValue;
        _roundLogEnd = logEnd;
        return Round;
    }

    /// <summary>A group started during the round: it must answer too before the log may be trimmed.</summary>
    public void Joined(string groupId)
    {
        if (Round != 0) _waiting.Add(groupId);
    }

    /// <summary>
    /// A group's answer: the offset of its snapshot, or null when the group does not exist (nothing of it need be
    /// kept). Returns where the log may now start once the round's last answer is in, else null.
    /// </summary>
    public long? Answered(long round, string groupId, long? snapshotOffset)
    {
        if (round != Round || !_waiting.Remove(groupId)) return null;
        if (snapshotOffset is { } offset) _lowestSnapshot = Math.Min(_lowestSnapshot, offset);
        if (_waiting.Count > 0) return null;
        Round = 0;
        return _lowestSnapshot == long.MaxValue ? _roundLogEnd : _lowestSnapshot;
    }

    /// <summary>The round stops unfinished (a write failed, the leadership moved): nothing is trimmed; a later round starts over.</summary>
    public void Abandon()
    {
        Round = 0;
        _waiting.Clear();
    }
}
