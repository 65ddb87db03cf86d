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
}
