using System.Collections.Immutable;

namespace Broker.Server.Controller.Quorum;

/// <summary>
/// A voter's view of the metadata log for observers: its applied image and the most recent applied records, encoded,
/// so an observer that is a little behind gets just the records it misses and one that is far behind (or new) gets
/// the image. Fed every applied change in log order; plain, for unit tests.
/// </summary>
internal sealed class MetadataFeed
{
    private readonly Queue<FetchedRecord> _recent = new();
    private readonly int _capacity;
    private readonly int _maxReplyBytes;
    private long _floor; // every record applied after this index is in _recent

    public MetadataFeed(MetadataImage start, int capacity = 10_000, int maxReplyBytes = 4 * 1024 * 1024)
    {
        View = start;
        _floor = start.AppliedIndex;
        _capacity = capacity;
        _maxReplyBytes = maxReplyBytes;
    }

    /// <summary>The image as of the last change fed in.</summary>
    public MetadataImage View { get; private set; }

    public void Applied(MetadataChange change)
    {
        switch (change)
        {
            case SnapshotLoaded snapshot:
                // The voter's image was replaced wholesale: the records before it cannot be served one by one.
                _recent.Clear();
                _floor = snapshot.Index;
                View = snapshot.Image;
                break;
            case RecordApplied applied when applied.Index > View.AppliedIndex:
                _recent.Enqueue(new FetchedRecord(applied.Index, applied.Encoded));
                if (_recent.Count > _capacity) _floor = _recent.Dequeue().Index;
                View = applied.Image;
                break;
        }
    }

    /// <summary>True when an observer at <paramref name="afterIndex"/> has nothing to fetch.</summary>
    public bool IsCaughtUp(long afterIndex) => afterIndex >= View.AppliedIndex;

    /// <summary>What an observer that applied everything up to <paramref name="afterIndex"/> needs next.</summary>
    public MetadataFetched Answer(long afterIndex, int controllerId)
    {
        if (IsCaughtUp(afterIndex)) return new MetadataFetched(View.AppliedIndex, controllerId, null, []);
        if (afterIndex < _floor) return new MetadataFetched(View.AppliedIndex, controllerId, MetadataCodec.Encode(View), []);
        var records = ImmutableArray.CreateBuilder<FetchedRecord>();
        var bytes = 0;
        foreach (var record in _recent)
        {
            if (record.Index <= afterIndex) continue;
            if (records.Count > 0 && bytes + record.Record.Length > _maxReplyBytes) break;
            records.Add(record);
            bytes += record.Record.Length;
        }
        return new MetadataFetched(View.AppliedIndex, controllerId, null, records.ToImmutable());
    }
}
