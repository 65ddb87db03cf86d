namespace Broker.Server.Partitions;

/// <summary>
/// Kafka's leader-epoch checkpoint (KIP-101/279) in memory: for each leader epoch, the first offset written
/// in it, ascending. Rebuilt on recovery from the batches (each carries its epoch) and the leaders'
/// LeaderEpochStarted events, and kept in snapshots. A leader answers "where does epoch e end?" from it,
/// which tells a follower how much of its log it must drop to match.
/// </summary>
public sealed class LeaderEpochCache
{
    private readonly List<(int Epoch, long StartOffset)> _entries = new();

    public int Count => _entries.Count;

    /// <summary>The newest epoch, or -1 when no batch or election has been recorded.</summary>
    public int LatestEpoch => _entries.Count == 0 ? -1 : _entries[^1].Epoch;

    public (int Epoch, long StartOffset) this[int index] => _entries[index];

    /// <summary>Records that <paramref name="epoch"/> starts at <paramref name="startOffset"/>; older or repeated epochs are ignored.</summary>
    public void Assign(int epoch, long startOffset)
    {
        if (epoch < 0 || epoch <= LatestEpoch) return;
        _entries.Add((epoch, startOffset));
    }

    /// <summary>The first offset of the newest epoch, or 0 when there is none.</summary>
    public long LatestEpochStart => _entries.Count == 0 ? 0 : _entries[^1].StartOffset;

    /// <summary>
    /// Kafka's OffsetsForLeaderEpoch on this log: the largest epoch at or below <paramref name="epoch"/> and the
    /// offset where it ends (the next epoch's start, or <paramref name="logEnd"/> for the newest). (-1, -1) when
    /// this log knows no epoch that old.
    /// </summary>
    public (int Epoch, long EndOffset) EndOffsetFor(int epoch, long logEnd)
    {
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (_entries[i].Epoch > epoch) continue;
            return (_entries[i].Epoch, i == _entries.Count - 1 ? logEnd : _entries[i + 1].StartOffset);
        }
        return (-1, -1);
    }

    /// <summary>After the log was cut at <paramref name="offset"/>: forgets epochs that start at or after it.</summary>
    public void TruncateFromEnd(long offset)
    {
        while (_entries.Count > 0 && _entries[^1].StartOffset >= offset) _entries.RemoveAt(_entries.Count - 1);
    }

    public void Clear() => _entries.Clear();
}
