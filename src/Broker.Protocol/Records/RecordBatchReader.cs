using System.Text;

namespace Broker.Protocol.Records;

/// <summary>Reads the records of one batch in order. Keys, values and header values are slices of the batch.</summary>
public struct RecordBatchReader
{
    private static readonly RecordHeader[] NoHeaders = [];
    private readonly ReadOnlyMemory<byte> _batch;
    private int _position;
    private int _read;

    public RecordBatchReader(ReadOnlyMemory<byte> batch)
    {
        if (!RecordBatch.TryReadHeader(batch.Span, out var header))
            throw new InvalidDataException("record batch is shorter than its header");
        _batch = batch;
        Header = header;
        _position = RecordBatch.HeaderSize;
        _read = 0;
    }

    public RecordBatchHeader Header { get; }

    public bool TryReadNext(out Record record)
    {
        if (_read >= Header.RecordCount || _position >= _batch.Length)
        {
            record = default;
            return false;
        }
        var span = _batch.Span;
        var length = Varint.ReadInt(span, ref _position);
        var end = _position + length;
        if (length < 0 || end > span.Length) throw new InvalidDataException("record length runs past the end of its batch");
        _position++; // attributes: unused in v2 records
        var timestampDelta = Varint.Read(span, ref _position);
        var offsetDelta = Varint.ReadInt(span, ref _position);
        var key = ReadBytes(span, end);
        var value = ReadBytes(span, end);
        var headerCount = Varint.ReadInt(span, ref _position);
        if (headerCount < 0 || headerCount > end - _position) throw new InvalidDataException("invalid record header count");
        IReadOnlyList<RecordHeader> headers = NoHeaders;
        if (headerCount > 0)
        {
            var list = new RecordHeader[headerCount];
            for (var i = 0; i < headerCount; i++)
            {
                var keyLength = Varint.ReadInt(span, ref _position);
                if (keyLength < 0 || _position + keyLength > end) throw new InvalidDataException("invalid record header key");
                var headerKey = Encoding.UTF8.GetString(span.Slice(_position, keyLength));
                _position += keyLength;
                list[i] = new RecordHeader(headerKey, ReadBytes(span, end));
            }
            headers = list;
        }
        if (_position != end) throw new InvalidDataException("record length does not match its fields");
        _read++;
        record = new Record(Header.BaseOffset + offsetDelta, Header.FirstTimestamp + timestampDelta, key, value, headers);
        return true;
    }

    private ReadOnlyMemory<byte>? ReadBytes(ReadOnlySpan<byte> span, int end)
    {
        var length = Varint.ReadInt(span, ref _position);
        if (length == -1) return null;
        if (length < 0 || _position + length > end) throw new InvalidDataException("record field runs past the end of its record");
        var slice = _batch.Slice(_position, length);
        _position += length;
        return slice;
    }
}
