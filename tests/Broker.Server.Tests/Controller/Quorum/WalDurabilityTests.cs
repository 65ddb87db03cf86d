using Broker.Server.Controller.Quorum;
using DotNext.IO;
using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Xunit;

namespace Broker.Server.Tests.Controller.Quorum;

/// <summary>
/// A voter's appended entries are on disk when the append returns, i.e. before Raft counts the voter towards a commit.
/// A second log opened on the same directory while the first is still open reads only what has been written out, as a
/// restart after SIGKILL would. (DotNext's bare WriteAheadLog writes appends out only when its flusher gets to them: a
/// test that asserted they were not yet on disk right after the append saw 0 of 3 in most runs and 3 of 3 in one, under
/// load; so only FlushedLog's guarantee is asserted here. Without its flush this test fails whenever the flusher has not
/// run yet, as it did when it was written.)
/// </summary>
public sealed class WalDurabilityTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("wal-durability").FullName;

    [Fact]
    public async Task Entries_a_follower_appended_are_on_disk_when_the_append_returns()
    {
        await using var log = new FlushedLog(Options(), new NoMachine(Snapshots()));
        IPersistentState raft = log; // as RaftCluster sees it
        await raft.AppendAsync(new LogEntryProducer<BinaryLogEntry>([Entry(1), Entry(1), Entry(2)]), startIndex: 1, skipCommitted: false, CancellationToken.None);

        Assert.Equal(3, LastEntryOnDisk());
    }

    private long LastEntryOnDisk()
    {
        using var reopened = new WriteAheadLog(Options(), new NoMachine(Snapshots()));
        return reopened.LastEntryIndex;
    }

    private WriteAheadLog.Options Options() => new() { Location = Path.Combine(_root, "log") };

    private DirectoryInfo Snapshots() => Directory.CreateDirectory(Path.Combine(_root, "snapshots"));

    private static BinaryLogEntry Entry(long term) => new() { Term = term, Content = new byte[] { 1, 2, 3 } };

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private sealed class NoMachine(DirectoryInfo snapshots) : SimpleStateMachine(snapshots)
    {
        protected override ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token) => ValueTask.FromResult(false);

        protected override ValueTask PersistAsync(IAsyncBinaryWriter writer, CancellationToken token) => ValueTask.CompletedTask;

        protected override ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token) => ValueTask.CompletedTask;
    }
}
