namespace Broker.Protocol;

/// <summary>
/// Typed outcome carried by every response. Names follow Kafka's error codes so that a Kafka user
/// recognises them; the numeric values are ours and are stable on the wire.
/// </summary>
public enum ErrorCode : short
{
    None = 0,
    UnknownTopic = 1,
    TopicAlreadyExists = 2,
    InvalidPartitions = 3,
    InvalidRequest = 4,
    RecordTooLarge = 5,
    OffsetOutOfRange = 6,
    NotLeader = 7,
    RequestTimedOut = 8,
    CorruptRecord = 9,
    InvalidTopic = 10,
    InvalidConfig = 11,
    InvalidReplicationFactor = 12,
    UnsupportedCompression = 13,
    UnknownPartition = 14,
    BrokerNotAvailable = 15,
    Unknown = 99,
}
