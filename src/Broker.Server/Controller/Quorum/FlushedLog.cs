using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace Broker.Server.Controller.Quorum;

/// <summary>
/// The Raft log DotNext's <see cref="RaftCluster"/> writes to: its <see cref="WriteAheadLog"/>, flushed after every
/// append a follower makes for its leader, before the follower answers.
///
/// Raft counts a voter towards the majority that commits an entry once the voter answers the append, so the entry
/// must be on its disk by then. DotNext 6.12.2's write-ahead log keeps appended entries in memory until its flusher
/// writes them out, which a commit waits for but an append does not; after a SIGKILL it restarts at the last entry it
/// wrote out. A follower killed between its answer and the next flush came back without entries the leader had
/// already committed on the strength of that answer; had the leader died next, the follower and the third voter
/// (which never had them) could elect a leader without them, and a committed ISR change or topic would be gone
/// (WalDurabilityTests shows the bare log losing them).
///
/// Only the follower's append (entries from the leader, under RaftCluster's transition lock, followed by its commit)
/// is flushed here. The leader's own appends need no flush: its commit waits for the flusher before it completes, and
/// nothing is acknowledged before that. They must not call <see cref="WriteAheadLog.FlushAsync"/> either: the
/// log's flush-completed event takes one waiter at a time, and a proposal's flush racing the leader's commit crashed
/// the process (InvalidOperationException from AsyncAutoResetEventSlim, seen in the quorum tests).
/// Cost: one flush (an fsync of the log's pages) per batch a follower receives; heartbeats carry none and are not flushed.
/// </summary>
internal sealed class FlushedLog(WriteAheadLog.Options options, IStateMachine stateMachine) : WriteAheadLog(options, stateMachine), IAuditTrail<IRaftLogEntry>
{
    // IAuditTrail<IRaftLogEntry> is implemented again here (C# interface re-implementation), so RaftCluster's appends,
    // made through IPersistentState, come here (IPersistentState itself cannot be implemented outside DotNext: it has
    // an internal setter). The members not written here map to WriteAheadLog's own public ones.
    async ValueTask IAuditTrail<IRaftLogEntry>.AppendAsync<TEntry>(ILogEntryProducer<TEntry> entries, long startIndex, bool skipCommitted, CancellationToken token)
    {
        var carriesEntries = entries.RemainingCount > 0;
        await AppendAsync(entries, startIndex, skipCommitted, token).ConfigureAwait(false);
        if (carriesEntries) await FlushAsync(token).ConfigureAwait(false);
    }
}
