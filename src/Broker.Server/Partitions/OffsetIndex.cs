namespace Broker.Server.Partitions;

/// <summary>
/// Where every batch of a partition's log lives: its offsets, its journal sequence number, its size and
/// its max timestamp. Kept in memory and in snapshots (about 36 bytes a batch), so a partition finds
/// the journal events for any offset without replaying the log. Entries are appended at the end and
/// dropped from the front by retention; the arrays grow by doubling and compact on trim.
/// </summary>
public sealed class OffsetIndex
{
    private long[] _baseOffsets;
    private int[] _recordCounts;
    private long[] _sequenceNrs;
    private long[] _maxTimestamps;
    private int[] _sizes;
    private int _head;
    private int _tail;

    public OffsetIndex(int capacity = 64)
    {
        _baseOffsets = new long[capacity];
        _recordCounts = new int[capacity];
        _sequenceNrs = new long[capacity];
        _maxTimestamps = new long[capacity];
        _sizes = new int[capacity];
    }

    public int Count => _tail - _head;

    /// <summary>Bytes of all batches in the index (what retention.bytes limits).</summary>
    public long TotalBytes { get; private set; }

    public long BaseOffset(int i) => _baseOffsets[_head + i];
    public int RecordCount(int i) => _recordCounts[_head + i];
    public long NextOffsetAfter(int i) => _baseOffsets[_head + i] + _recordCounts[_head + i];
    public long SequenceNr(int i) => _sequenceNrs[_head + i];
    public long MaxTimestamp(int i) => _maxTimestamps[_head + i];
    public int Size(int i) => _sizes[_head + i];

    public void Append(long baseOffset, int recordCount, long sequenceNr, long maxTimestamp, int size)
    {
        if (_tail == _baseOffsets.Length) Grow();
        _baseOffsets[_tail] = baseOffset;
        _recordCounts[_tail] = recordCount;
        _sequenceNrs[_tail] = sequenceNr;
        _maxTimestamps[_tail] = maxTimestamp;
        _sizes[_tail] = size;
        _tail++;
        TotalBytes += size;
    }

    /// <summary>Corrects the max timestamp of entry <paramref name="i"/> (read back from its batch's records).</summary>
    public void SetMaxTimestamp(int i, long maxTimestamp) => _maxTimestamps[_head + i] = maxTimestamp;

    /// <summary>Drops the first <paramref name="count"/> entries (retention).</summary>
    public void RemoveFirst(int count)
    {
        for (var i = 0; i < count; i++) TotalBytes -= _sizes[_head + i];
        _head += count;
        if (_head == _tail) _head = _tail = 0;
    }

    /// <summary>Drops the last <paramref name="count"/> entries (a follower truncating a divergent suffix).</summary>
    public void RemoveLast(int count)
    {
        for (var i = 1; i <= count; i++) TotalBytes -= _sizes[_tail - i];
        _tail -= count;
        if (_head == _tail) _head = _tail = 0;
    }

    public void Clear()
    {
        _head = _tail = 0;
        TotalBytes = 0;
    }

    /// <summary>Index of the batch holding <paramref name="offset"/>, or -1 if no batch holds it.</summary>
    public int Find(long offset)
    {
        int lo = _head, hi = _tail - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_baseOffsets[mid] <= offset) lo = mid + 1;
            else hi = mid - 1;
        }
        // hi is the last batch starting at or before offset.
        if (hi < _head) return -1;
        return offset < _baseOffsets[hi] + _recordCounts[hi] ? hi - _head : -1;
    }

    /// <summary>
    /// The entries a read from entry <paramref name="first"/> returns, as the tail cache and the journal reader serve
    /// it: whole batches that start below <paramref name="endOffset"/>, up to <paramref name="maxBytes"/>, and always
    /// the first. Returns the last entry's index; <paramref name="bytes"/> is their size.
    /// </summary>
    public int LastOfRead(int first, long maxBytes, long endOffset, out long bytes)
    {
        var last = first;
        bytes = Size(first);
        while (last + 1 < Count && BaseOffset(last + 1) < endOffset && bytes + Size(last + 1) <= maxBytes) bytes += Size(++last);
        return last;
    }

    /// <summary>
    /// The size of the batch holding <paramref name="offset"/> and of a read from there (<see cref="LastOfRead"/>),
    /// before reading it: what a leader reserves for a follower's answer. (0, 0) when no batch holds the offset.
    /// </summary>
    public (long FirstBatch, long Total) ReadSize(long offset, long maxBytes, long endOffset)
    {
        var first = Find(offset);
        if (first < 0) return (0, 0);
        LastOfRead(first, maxBytes, endOffset, out var total);
        return (Size(first), total);
    }

    private void Grow()
    {
        var live = _tail - _head;
        // Compact instead of growing when retention has freed at least half of the array.
        var capacity = live * 2 <= _baseOffsets.Length ? _baseOffsets.Length : _baseOffsets.Length * 2;
        _baseOffsets = Move(_baseOffsets, capacity);
        _recordCounts = Move(_recordCounts, capacity);
        _sequenceNrs = Move(_sequenceNrs, capacity);
        _maxTimestamps = Move(_maxTimestamps, capacity);
        _sizes = Move(_sizes, capacity);
        _head = 0;
        _tail = live;
    }

    private T[] Move<T>(T[] source, int capacity)
    {
        var target = capacity == source.Length ? source : new T[capacity];
        Array.Copy(source, _head, target, 0, _tail - _head);
        return target;
    }
}
