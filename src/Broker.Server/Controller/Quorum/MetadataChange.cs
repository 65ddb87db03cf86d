namespace Broker.Server.Controller.Quorum;

/// <summary>What a node's applied metadata image just did, in log order: what partition actors subscribe to.</summary>
public abstract record MetadataChange(long Index, MetadataImage Image);

/// <summary>
/// The committed record at <paramref name="Index"/> was applied with <paramref name="Result"/>, turning
/// <paramref name="Previous"/> into <paramref name="Image"/>; <see cref="MetadataDelta.ChangedPartitions"/> lists what moved.
/// <paramref name="Encoded"/> is the record as committed (MetadataCodec), what voters send observers without encoding it again.
/// </summary>
public sealed record RecordApplied(long Index, MetadataRecord Record, ReadOnlyMemory<byte> Encoded, MetadataResult Result, MetadataImage Previous, MetadataImage Image)
    : MetadataChange(Index, Image);

/// <summary>The image was replaced by a snapshot (at start-up, or sent by the leader to a lagging voter): re-read everything.</summary>
public sealed record SnapshotLoaded(long Index, MetadataImage Image) : MetadataChange(Index, Image);
