using System.Text;
using Broker.Protocol.Records.Compression;

namespace Broker.Protocol.Records;

/// <summary>
/// Reads the records of one batch in order. Keys, values and header values are slices of the batch (no copies),
/// or of its records decompressed once into one array if the batch is compressed; only header keys become strings.
/// Malformed records throw InvalidDataException.
/// </summary>
public struct RecordBatchReader
{
    private const short TimestampTypeMask = 0x08; // attribute bit 3: LogAppendTime
    private readonly ReadOnlyMemory<byte> _records; // the batch (records from HeaderSize on) or its decompressed records section
    private readonly int _end;
    private int _position;
    private int _read;

    /// <summary>
    /// Reads the header of <paramref name="batch"/> and decompresses its records if its attributes say so. Throws
    /// InvalidDataException if it is shorter than a header, names an unknown codec or does not decompress. Checks no CRC.
    /// </summary>
    public RecordBatchReader(ReadOnlyMemory<byte> batch)
    {
        if (!RecordBatch.TryReadHeader(batch.Span, out var header))
            throw new InvalidDataException("record batch is shorter than its header");
        Header = header;
        // Stop at the batch's own end even if the caller passed more bytes (the rest of a fetch response).
        var batchEnd = (int)Math.Clamp((long)header.BatchLength + RecordBatch.LogOverhead, RecordBatch.HeaderSize, batch.Length);
        if (header.CompressionType == (int)CompressionCodec.None)
        {
            _records = batch;
            _end = batchEnd;
            _position = RecordBatch.HeaderSize;
        }
        else
        {
            _records = RecordCompression.Decompress((CompressionCodec)header.CompressionType, batch[RecordBatch.HeaderSize..batchEnd]);
            _end = _records.Length;
            _position = 0;
        }
        _read = 0;
    }

    public RecordBatchHeader Header { get; }

    /// <summary>
    /// The next record, or false once the batch's record count has been read. Throws InvalidDataException if a
    /// record is malformed, or the records end before the count (or continue after it).
    /// </summary>
    public bool TryReadNext(out Record record)
    {
        if (_read >= Header.RecordCount)
        {
            if (_position != _end && _read > 0)
                throw new InvalidDataException($"{_end - _position} bytes follow the last of the batch's {Header.RecordCount} records");
            record = default;
            return false;
        }
        if (_position >= _end)
            throw new InvalidDataException($"batch ends after {_read} of its {Header.RecordCount} records");

        var batchSpan = _records.Span[.._end];
        var length = Varint.ReadInt(batchSpan, ref _position);
        if (length <= 0 || length > _end - _position) throw new InvalidDataException("record length runs past the end of its batch");
        var end = _position + length;
        // Every field read below is bounded by the record's own end, not the batch's.
        var span = batchSpan[..end];
        _position++; // attributes: unused in v2 records
        var timestampDelta = Varint.Read(span, ref _position);
        var offsetDelta = Varint.ReadInt(span, ref _position);
        var key = ReadBytes(span);
        var value = ReadBytes(span);
        var headerCount = Varint.ReadInt(span, ref _position);
        // Each header takes at least two bytes, which bounds the array allocated from an untrusted count.
        if (headerCount < 0 || headerCount > (end - _position) / 2) throw new InvalidDataException("invalid record header count");
        IReadOnlyList<RecordHeader> headers = Record.NoHeaders;
        if (headerCount > 0)
        {
            var list = new RecordHeader[headerCount];
            for (var i = 0; i < headerCount; i++)
            {
                var keyLength = Varint.ReadInt(span, ref _position);
                if (keyLength < 0 || keyLength > end - _position) throw new InvalidDataException("invalid record header key");
                var headerKey = Encoding.UTF8.GetString(span.Slice(_position, keyLength));
                _position += keyLength;
                list[i] = new RecordHeader(headerKey, ReadBytes(span));
            }
            headers = list;
        }
        if (_position != end) throw new InvalidDataException("record length does not match its fields");
        _read++;
        var timestamp = (Header.Attributes & TimestampTypeMask) != 0 ? Header.MaxTimestamp : Header.FirstTimestamp + timestampDelta;
        record = new Record(Header.BaseOffset + offsetDelta, timestamp, key, value, headers);
        return true;
    }

    // A length-prefixed field: -1 is null, anything else must fit inside the record.
    private ReadOnlyMemory<byte>? ReadBytes(ReadOnlySpan<byte> record)
    {
        var length = Varint.ReadInt(record, ref _position);
        if (length == -1) return null;
        if (length < 0 || length > record.Length - _position) throw new InvalidDataException("record field runs past the end of its record");
        var slice = _records.Slice(_position, length);
        _position += length;
        return slice;
    }
}
