using System.Collections.Immutable;
using Broker.Server.Serialization;

namespace Broker.Server.Controller.Quorum;

// What an observer (a node that is not a voter) asks a voter's MetadataServerActor, and the answers (docs/architecture.md,
// "Nodes that are not voters"); and a voter's check that the controller counts it as a member ("No islands"). Records and images travel encoded with MetadataCodec, as the voters' log holds them.

/// <summary>
/// Every committed record applied after <paramref name="AfterIndex"/>. <paramref name="Barrier"/>: first pass a Raft
/// read barrier, so the answer holds everything committed before the request (a linearizable read). With nothing
/// new, the voter holds the request up to <paramref name="WaitMs"/> for the next change (a long poll).
/// </summary>
public sealed record MetadataFetch(long AfterIndex, bool Barrier, int WaitMs) : IServerMessage;

/// <summary>
/// The voter's answer: either a <paramref name="Snapshot"/> of its whole image (the observer was too far behind, or
/// new) or the <paramref name="Records"/> after the asked index, in log order, possibly only the first of them (then
/// <paramref name="AppliedIndex"/>, the voter's own, is further on: fetch again).
/// </summary>
public sealed record MetadataFetched(long AppliedIndex, int ControllerId, byte[]? Snapshot, ImmutableArray<FetchedRecord> Records) : IServerMessage;

/// <summary>A committed record at its log index, encoded.</summary>
public readonly record struct FetchedRecord(long Index, ReadOnlyMemory<byte> Record);

/// <summary>The voter could not pass a read barrier (no majority of voters reachable): try another voter, or later.</summary>
public sealed record MetadataUnavailable(string Reason) : IServerMessage;

/// <summary>Commit this encoded record through the controller (the voter forwards it as it forwards its own).</summary>
public sealed record MetadataPropose(byte[] Record) : IServerMessage;

/// <summary>What committing it did: an encoded <see cref="MetadataResult"/>.</summary>
public sealed record MetadataProposed(byte[] Result) : IServerMessage;

/// <summary>
/// A voter asks the controller whether it counts the asker's incarnation (<paramref name="Address"/> and Akka's
/// <paramref name="Uid"/>) as a member of its cluster (Membership/IslandCheck.cs).
/// </summary>
public sealed record MembershipCheck(string Address, int Uid) : IServerMessage;

/// <summary>The answer: whether the answering voter leads the quorum, and whether the asker is a member of its cluster.</summary>
public sealed record MembershipChecked(bool IsController, bool IsMember) : IServerMessage;

/// <summary>A voter that is catching up asks another voter about its Raft log (<see cref="NewVoterRule"/>).</summary>
public sealed record VoterLogAsk : IServerMessage
{
    public static readonly VoterLogAsk Instance = new();
}

/// <summary>The answer: the voter's node id, the last index of its log (0: empty), and whether it is itself still catching up.</summary>
public sealed record VoterLogState(int NodeId, long LastLogIndex, bool CatchingUp) : IServerMessage;
