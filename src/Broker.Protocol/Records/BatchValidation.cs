namespace Broker.Protocol.Records;

/// <summary>Outcome of checking bytes that claim to be one RecordBatch v2.</summary>
public enum BatchValidation
{
    Valid,
    TooShort,
    LengthMismatch,
    UnsupportedMagic,
    CorruptCrc,
    InvalidRecordCount,
    /// <summary>Attribute bits 0-2 name a codec Kafka does not define (5-7).</summary>
    UnknownCompression,
}
