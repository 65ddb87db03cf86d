// Where the consumer is in the fetch response it is reading: the partition, the response's bytes, the next batch and the current batch's reader.
using Broker.Protocol.Records;

namespace Broker.Client.Consuming;

/// <summary>
/// The consumer's read position inside one fetched response. Cleared as a whole (<see cref="Clear"/>) whenever
/// what it points at stops being valid: Seek, a revoked or unassigned partition, a corrupt batch.
/// Touched only by the consumer's calling thread.
/// </summary>
internal sealed class FetchCursor
{
    private ReadOnlyMemory<byte> _records;
    private int _nextBatch;
    private RecordBatchReader _reader;
    private bool _inBatch;

    /// <summary>The partition whose response is being read, or null between responses.</summary>
    public PartitionFetcher? Fetcher { get; private set; }

    public void Start(PartitionFetcher fetcher, ReadOnlyMemory<byte> records)
    {
        Fetcher = fetcher;
        _records = records;
        _nextBatch = 0;
        _inBatch = false;
    }

    public void Clear()
    {
        Fetcher = null;
        _records = default;
        _nextBatch = 0;
        _inBatch = false;
    }

    /// <summary>Clears the cursor if it is reading <paramref name="fetcher"/>'s response.</summary>
    public void ClearIf(PartitionFetcher fetcher)
    {
        if (ReferenceEquals(Fetcher, fetcher)) Clear();
    }

    /// <summary>
    /// The next record at or after the partition's position (a fetch starts at the batch holding the position, so
    /// what precedes it is skipped); false at the end of the response. Throws InvalidDataException for a batch that
    /// fails validation or whose records do not decompress.
    /// </summary>
    public bool TryReadNext(out Record record)
    {
        var position = Fetcher!.Position;
        while (true)
        {
            if (_inBatch)
            {
                while (_reader.TryReadNext(out record))
                {
                    if (record.Offset >= position) return true;
                }
                _inBatch = false;
            }
            if (!RecordBatch.TryReadNext(_records, ref _nextBatch, out var batch, out var header))
            {
                record = default;
                return false;
            }
            if (header.LastOffset < position) continue;
            var validation = RecordBatch.Validate(batch.Span, out _);
            if (validation != BatchValidation.Valid)
                throw new InvalidDataException($"batch at offset {header.BaseOffset} failed validation ({validation})");
            // Decompresses a compressed batch's records once, here; records are slices of that copy.
            _reader = new RecordBatchReader(batch);
            _inBatch = true;
        }
    }
}
