namespace Broker.Protocol.Messages;

/// <summary>
/// Reads whole batches from one partition starting at the batch that holds <paramref name="Offset"/>,
/// up to <paramref name="MaxBytes"/> (at least one batch is returned even if larger). If nothing is
/// available the partition waits up to <paramref name="MaxWaitMs"/> for new data (long poll).
/// The gateway forwards it to the partition, which replies to the client directly.
/// </summary>
public sealed record FetchRequest(string Topic, int Partition, long Offset, int MaxBytes, int MaxWaitMs) : IBrokerRequest, IPartitionMessage
{
    /// <summary>
    /// The leader epoch the client last saw for the partition (KIP-320), or -1. A replica in an older epoch answers
    /// NotLeader (it is stale); one in a newer epoch answers FencedLeaderEpoch (the client is stale), so a client
    /// never reads from a replica that knows less than it already saw.
    /// </summary>
    public int CurrentLeaderEpoch { get; init; } = -1;

    /// <summary>The client's rack (Kafka's client.rack), or null: an in-sync replica on a node in that rack serves the fetch (KIP-392).</summary>
    public string? ClientRack { get; init; }
}

/// <summary>
/// <paramref name="Records"/> is zero or more RecordBatch v2 byte blocks back to back. The first batch
/// may start before the requested offset: consumers skip records below the offset they asked for.
/// </summary>
public sealed record FetchResponse(
    string Topic,
    int Partition,
    ErrorCode Error,
    string? ErrorMessage,
    long HighWatermark,
    long LogStartOffset,
    ReadOnlyMemory<byte> Records) : IBrokerResponse
{
    /// <summary>The partition's leader epoch as the replica that answered knows it; the client sends it with its next fetch.</summary>
    public int LeaderEpoch { get; init; } = -1;
}

/// <summary>Special timestamps of <see cref="ListOffsetsRequest"/>, as in Kafka.</summary>
public static class OffsetSpec
{
    public const long Latest = -1;
    public const long Earliest = -2;

    /// <summary>The offset of the record with the largest timestamp (KIP-734), and that timestamp.</summary>
    public const long MaxTimestamp = -3;
}

/// <summary>Finds an offset by time: earliest (-2), latest (-1), the record with the largest timestamp (-3), or the first offset whose timestamp is at or after the given one.</summary>
public sealed record ListOffsetsRequest(string Topic, int Partition, long Timestamp) : IBrokerRequest, IPartitionMessage;

/// <summary>Offset -1 with Error None means no record has a timestamp at or after the one asked for.</summary>
public sealed record ListOffsetsResponse(string Topic, int Partition, ErrorCode Error, string? ErrorMessage, long Offset, long Timestamp) : IBrokerResponse;

/// <summary>
/// Deletes a partition's records below <paramref name="Offset"/> (Kafka's DeleteRecords): the log start moves there,
/// so consumers starting from the beginning start at it. -1 means the high watermark; only committed records can go.
/// </summary>
public sealed record DeleteRecordsRequest(string Topic, int Partition, long Offset) : IBrokerRequest, IPartitionMessage;

/// <summary><paramref name="LowWatermark"/> is the partition's log start after the deletion.</summary>
public sealed record DeleteRecordsResponse(string Topic, int Partition, ErrorCode Error, string? ErrorMessage, long LowWatermark) : IBrokerResponse;

/// <summary>
/// Where leader epoch <paramref name="LeaderEpoch"/> ends in the partition's log (Kafka's OffsetForLeaderEpoch,
/// KIP-320): clients check their position after a leader change against it. <paramref name="CurrentLeaderEpoch"/>
/// (-1: unchecked) is the epoch the client last saw; an older one is FencedLeaderEpoch.
/// </summary>
public sealed record OffsetForLeaderEpochRequest(string Topic, int Partition, int CurrentLeaderEpoch, int LeaderEpoch) : IBrokerRequest, IPartitionMessage;

/// <summary>The largest epoch at or below the one asked, and where it ends (the next epoch's start, or the log end); -1, -1 when the log knows no epoch that old.</summary>
public sealed record OffsetForLeaderEpochResponse(string Topic, int Partition, ErrorCode Error, string? ErrorMessage, int LeaderEpoch, long EndOffset) : IBrokerResponse;
