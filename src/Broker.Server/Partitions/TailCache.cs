namespace Broker.Server.Partitions;

/// <summary>
/// The newest batches of a partition, bounded in bytes, so consumers that keep up are served from
/// memory. Always a contiguous suffix of the log: a fetch at or after <see cref="FirstOffset"/> never
/// touches the journal.
/// </summary>
public sealed class TailCache(long maxBytes)
{
    private readonly List<byte[]> _batches = new();
    private readonly List<long> _baseOffsets = new();
    private int _head;

    public long Bytes { get; private set; }

    /// <summary>Base offset of the oldest cached batch, or long.MaxValue when empty.</summary>
    public long FirstOffset => _head < _batches.Count ? _baseOffsets[_head] : long.MaxValue;

    public void Add(long baseOffset, byte[] batch)
    {
        _batches.Add(batch);
        _baseOffsets.Add(baseOffset);
        Bytes += batch.Length;
        // Keep at least the newest batch even if it alone exceeds the bound.
        while (Bytes > maxBytes && _batches.Count - _head > 1) DropOldest();
        if (_head > 1024 && _head * 2 > _batches.Count) Compact();
    }

    /// <summary>Drops cached batches that start below <paramref name="logStartOffset"/> (after retention).</summary>
    public void TrimBelow(long logStartOffset)
    {
        while (_head < _batches.Count && _baseOffsets[_head] < logStartOffset) DropOldest();
    }

    /// <summary>Drops cached batches that start at or after <paramref name="offset"/> (log truncation).</summary>
    public void TruncateFrom(long offset)
    {
        while (_batches.Count > _head && _baseOffsets[^1] >= offset)
        {
            Bytes -= _batches[^1].Length;
            _batches.RemoveAt(_batches.Count - 1);
            _baseOffsets.RemoveAt(_baseOffsets.Count - 1);
        }
        if (_head >= _batches.Count) Clear();
    }

    public void Clear()
    {
        _batches.Clear();
        _baseOffsets.Clear();
        _head = 0;
        Bytes = 0;
    }

    /// <summary>
    /// Copies whole batches starting with the one whose base offset is <paramref name="batchBaseOffset"/>
    /// into one buffer, up to <paramref name="maxBytes"/> (the first batch always) and only batches that start
    /// below <paramref name="endOffset"/> (the high watermark, for consumers). Null if not cached.
    /// </summary>
    public byte[]? Read(long batchBaseOffset, int maxBytes, long endOffset = long.MaxValue)
    {
        var start = _baseOffsets.BinarySearch(_head, _batches.Count - _head, batchBaseOffset, null);
        if (start < 0) return null;
        var end = start;
        long total = 0;
        while (end < _batches.Count && _baseOffsets[end] < endOffset && (end == start || total + _batches[end].Length <= maxBytes))
            total += _batches[end++].Length;
        var buffer = GC.AllocateUninitializedArray<byte>((int)total); // every byte is copied over below
        var position = 0;
        for (var i = start; i < end; i++)
        {
            _batches[i].CopyTo(buffer, position);
            position += _batches[i].Length;
        }
        return buffer;
    }

    private void DropOldest()
    {
        Bytes -= _batches[_head].Length;
        _batches[_head] = Array.Empty<byte>();
        _head++;
    }

    private void Compact()
    {
        _batches.RemoveRange(0, _head);
        _baseOffsets.RemoveRange(0, _head);
        _head = 0;
    }
}
