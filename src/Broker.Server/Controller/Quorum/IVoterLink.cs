namespace Broker.Server.Controller.Quorum;

/// <summary>How an observer reaches the voters (over Akka.Remote in a node: <see cref="VoterLink"/>).</summary>
public interface IVoterLink
{
    /// <summary>
    /// A voter's <see cref="MetadataFetched"/> for <paramref name="fetch"/>. Throws
    /// <see cref="Metadata.MetadataUnavailableException"/> when no voter answered (none is a member, none has a
    /// majority, or all timed out); nothing changes on any voter, so the caller may simply ask again.
    /// </summary>
    Task<MetadataFetched> FetchAsync(MetadataFetch fetch, CancellationToken ct);

    /// <summary>
    /// What committing <paramref name="record"/> did. Waits while no voter is a member; a voter that received it and did
    /// not answer in time gives <see cref="MetadataError.OutcomeUnknown"/> (it may have committed it).
    /// </summary>
    Task<MetadataResult> ProposeAsync(byte[] record, CancellationToken ct);
}
