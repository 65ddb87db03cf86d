using System.Net;
using DotNext.IO.Log;
using DotNext.Net;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using DotNext.Net.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Server.Controller.Quorum;

/// <summary>
/// One voter of the metadata quorum (KRaft's controller quorum) on DotNext's Raft: a fixed voter set over TCP,
/// a persistent write-ahead log, and <see cref="MetadataLog"/> applying committed records to the image.
///
/// The Raft leader is the active controller. <see cref="ProposeAsync"/> on any voter reaches it (directly, or through
/// <see cref="ControllerChannel"/>) and returns the record's result once it is committed by a majority and applied
/// there. <see cref="ReadAsync"/> is a linearizable read (a Raft read barrier). <see cref="Subscribe"/> streams every
/// applied change in log order. A voter without a majority of voters reachable can neither elect a leader nor commit.
/// </summary>
public sealed class MetadataQuorum : IMetadataQuorum
{
    private static readonly TimeSpan RetryBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan CatchUpPoll = TimeSpan.FromMilliseconds(250);

    private readonly QuorumSettings _settings;
    private readonly MetadataLog _log;
    private readonly WriteAheadLog _wal;
    private readonly Func<bool, RaftCluster> _newRaft;
    private readonly ControllerChannel _channel;
    private readonly System.Net.Security.SslClientAuthenticationOptions? _channelTls;
    private readonly ILogger _quorumLog;
    private readonly SemaphoreSlim _raftGate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private volatile RaftCluster _raft;
    private volatile bool _catchingUp;
    private Task _catchUpWatch = Task.CompletedTask;
    private bool _disposed;

    private MetadataQuorum(QuorumSettings settings, MetadataLog log, WriteAheadLog wal, Func<bool, RaftCluster> newRaft, bool catchingUp, ControllerChannel channel,
        System.Net.Security.SslClientAuthenticationOptions? channelTls, ILogger quorumLog)
    {
        _settings = settings;
        _log = log;
        _wal = wal;
        _newRaft = newRaft;
        _catchingUp = catchingUp;
        _raft = newRaft(catchingUp);
        _channel = channel;
        _channelTls = channelTls;
        _quorumLog = quorumLog;
    }

    public int NodeId => _settings.NodeId;

    private volatile bool _refreshControllerMetadata;

    /// <summary>The node ids of every voter.</summary>
    public IReadOnlySet<int> VoterIds => _settings.VoterIds;

    /// <summary>The image as applied on this voter: possibly behind the leader; use <see cref="ReadAsync"/> for a linearizable view.</summary>
    public MetadataImage Image => _log.Image;

    /// <summary>True while this voter is the Raft leader, i.e. the active controller.</summary>
    public bool IsController => !_raft.LeadershipToken.IsCancellationRequested;

    /// <summary>The node id of the voter this one believes leads, or null while there is none.</summary>
    public int? ControllerId => _raft.Leader?.EndPoint is IPEndPoint leader ? _settings.Voters.FirstOrDefault(v => v.Endpoint.Equals(leader))?.NodeId : null;

    /// <summary>The Raft term: grows with every election, so one leader per term.</summary>
    public long Term => _raft.Term;

    /// <summary>Checks the quorum directory (see <see cref="QuorumDirectory"/>), restores the last snapshot, and joins the voters.</summary>
    public static async Task<MetadataQuorum> StartAsync(QuorumSettings settings, ILoggerFactory? loggerFactory = null, CancellationToken ct = default)
    {
        QuorumDirectory.Check(settings);
        loggerFactory ??= NullLoggerFactory.Instance;
        // With TLS between nodes, both of the quorum's ports take only nodes of this cluster (docs/security.md).
        var quorumLog = loggerFactory.CreateLogger<MetadataQuorum>();
        var tls = settings.Tls is { } nodeTls ? new SslOptions { ServerOptions = nodeTls.ServerOptions(quorumLog.RefusedTlsPeer), ClientOptions = nodeTls.ClientOptions(quorumLog.RefusedTlsPeer) } : null;
        var logDirectory = QuorumDirectory.LogDirectory(settings.Directory);
        var log = new MetadataLog(new DirectoryInfo(Path.Combine(logDirectory, "snapshots")), settings.SnapshotEvery);
        WriteAheadLog? wal = null;
        ControllerChannel? channel = null;
        MetadataQuorum? quorum = null;
        try
        {
            await log.RestoreAsync(ct).ConfigureAwait(false); // before the WAL is built: it replays from the snapshot on
            // Durability: DotNext 6.12.2 flushes the WAL before every commit and writes the term and vote through; a
            // follower's appends are flushed before it answers by FlushedLog (the WAL alone keeps them in memory).
            // Each entry carries a hash checked on replay: a voter whose log is corrupted fails to start instead of voting with it.
            // (Fixed when the log is created: it cannot change for an existing log.)
            wal = new FlushedLog(new WriteAheadLog.Options
            {
                Location = Path.Combine(logDirectory, "log"),
                HashAlgorithm = WriteAheadLog.IntegrityHashAlgorithm.XxHash64,
            }, log);
            channel = new ControllerChannel(settings.ControllerEndpoint, (request, token) => quorum!.ServeForwardedAsync(request, token), tls?.ServerOptions, quorumLog);
            channel.Start();
        }
        catch
        {
            if (channel is not null) await channel.DisposeAsync().ConfigureAwait(false);
            if (wal is not null) await wal.DisposeAsync().ConfigureAwait(false);
            await log.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var catchingUp = QuorumDirectory.IsCatchingUp(settings.Directory);
        quorum = new MetadataQuorum(settings, log, wal, fenced => NewRaft(settings, fenced, channel.Endpoint, tls, loggerFactory, wal), catchingUp, channel,
            tls?.ClientOptions, quorumLog);
        try
        {
            await quorum._raft.StartAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await quorum.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        if (catchingUp)
        {
            quorumLog.CatchingUp(settings.NodeId);
            quorum._catchUpWatch = quorum.WatchCatchUpAsync(quorum._stopping.Token);
        }
        return quorum;
    }

    /// <summary>
    /// This voter's Raft member. A voter still <paramref name="catchingUp"/> lists only itself as a member and stands
    /// by: DotNext grants a vote (or a pre-vote) only to a candidate it counts as a member, so it votes for nobody,
    /// and in standby it never stands; the leader, which lists it, still replicates to it, and its acknowledgements
    /// count, because it stores them as any voter does (<see cref="FlushedLog"/>).
    /// </summary>
    private static RaftCluster NewRaft(QuorumSettings settings, bool catchingUp, IPEndPoint channel, SslOptions? tls, ILoggerFactory loggerFactory, WriteAheadLog wal)
    {
        var storage = new VoterStorage();
        var initial = storage.CreateInitialConfigurationBuilder();
        foreach (var voter in catchingUp ? [settings.Self] : settings.Voters) initial.Add(voter.Endpoint);
        initial.Build();

        var config = new RaftCluster.TcpConfiguration(settings.Self.Endpoint)
        {
            // Never a one-member cluster on its own: the voters are the fixed list above, a majority of which must vote.
            ColdStart = false,
            Standby = settings.NeverLeads || catchingUp,
            ConfigurationStorage = storage,
            LowerElectionTimeout = (int)settings.LowerElectionTimeout.TotalMilliseconds,
            UpperElectionTimeout = (int)settings.UpperElectionTimeout.TotalMilliseconds,
            RequestTimeout = settings.RequestTimeout,
            ConnectTimeout = settings.ConnectTimeout,
            LoggerFactory = loggerFactory,
            SslOptions = tls,
        };
        config.Metadata[ControllerChannel.MetadataKey] = channel.ToString();
        return new RaftCluster(config) { AuditTrail = wal };
    }

    /// <summary>
    /// True while this voter does not vote: its quorum directory is new (a new cluster, or a voter whose disk was
    /// wiped) and it has not yet shown that it holds everything committed (docs/architecture.md, "A voter that lost its disk").
    /// </summary>
    public bool IsCatchingUp => _catchingUp;

    /// <summary>The index of the last entry in this voter's Raft log (0: empty).</summary>
    public long LastLogIndex => _wal.LastEntryIndex;

    /// <summary>
    /// Makes a voter that was catching up a full voter: marks its directory, then restarts its Raft member with every
    /// voter as a member. Called once it has caught up (<see cref="WatchCatchUpAsync"/>) or, for a new cluster, once
    /// <see cref="NewVoterRule"/> finds that no voter holds a log. A no-op for a full voter.
    /// </summary>
    public async Task JoinVotersAsync(string why, CancellationToken ct)
    {
        await _raftGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!_catchingUp || _disposed) return;
            // Marked first: should the process die now, it starts as a full voter next time, as it is one by now.
            QuorumDirectory.MarkCaughtUp(_settings.Directory);
            var fenced = _raft;
            await fenced.StopAsync(ct).ConfigureAwait(false);
            fenced.Dispose();
            var raft = _newRaft(false);
            try
            {
                await raft.StartAsync(ct).ConfigureAwait(false);
            }
            catch
            {
                // Not started (cancelled, or its port not yet free): follow again as before, so that _raft is never a
                // disposed member and a later call (the watch's next round, the new-voter actor's) can try again.
                raft.Dispose();
                _raft = _newRaft(true);
                await _raft.StartAsync(CancellationToken.None).ConfigureAwait(false);
                throw;
            }
            _raft = raft;
            _catchingUp = false;
            _quorumLog.JoinedVoters(NodeId, why);
        }
        finally
        {
            _raftGate.Release();
        }
    }

    /// <summary>
    /// While catching up: joins the voters once this voter's log is committed up to an entry of the current term. A
    /// Raft leader commits an entry of its own term only after everything committed before it (it holds all of that:
    /// Raft's leader completeness), and a follower's log matches the leader's up to what it commits, so by then this
    /// voter holds every entry committed before it lost its disk, and its vote can no longer elect a leader without them.
    /// </summary>
    private async Task WatchCatchUpAsync(CancellationToken ct)
    {
        try
        {
            while (_catchingUp)
            {
                await Task.Delay(CatchUpPoll, ct).ConfigureAwait(false);
                var committed = _wal.LastCommittedEntryIndex;
                if (committed == 0) continue;
                var term = _raft.Term;
                if (await ((IAuditTrail<IRaftLogEntry>)_wal).ReadAsync(TermOfFirst.Instance, committed, committed, ct).ConfigureAwait(false) != term) continue;
                try
                {
                    await JoinVotersAsync($"its log holds everything the controller committed up to index {committed}, an entry of the current term {term}", ct).ConfigureAwait(false);
                }
                catch (Exception) when (!ct.IsCancellationRequested)
                {
                    // The full member did not start; JoinVotersAsync follows as before: try again next round.
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // stopping
        }
    }

    /// <summary>
    /// Commits <paramref name="record"/> through the active controller and returns what applying it did. Retries while
    /// no controller is known or reachable, until <paramref name="ct"/> ends (then <see cref="OperationCanceledException"/>:
    /// the record may or may not have been committed). <see cref="MetadataError.OutcomeUnknown"/> likewise means the
    /// controller lost leadership after appending it; the records' own checks make a retry safe.
    /// </summary>
    public async Task<MetadataResult> ProposeAsync(MetadataRecord record, CancellationToken ct)
    {
        var bytes = MetadataCodec.Encode(record);
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            MetadataResult? result;
            if (IsController)
            {
                result = await ProposeAsControllerAsync(bytes, ct).ConfigureAwait(false);
            }
            else
            {
                result = await ForwardAsync(bytes, ct).ConfigureAwait(false);
            }

            if (result is not null and not Refused { Error: MetadataError.NotController }) return result;
            await Task.Delay(RetryBackoff, ct).ConfigureAwait(false);
        }
    }

    /// <summary>A linearizable view: waits until this voter has applied everything committed before the call.</summary>
    public async Task<MetadataImage> ReadAsync(CancellationToken ct)
    {
        while (true)
        {
            try
            {
                await _raft.ApplyReadBarrierAsync(ct).ConfigureAwait(false);
                return Image;
            }
            catch (Exception ex) when (ex is QuorumUnreachableException or DotNext.Net.Cluster.MemberUnavailableException || ex is ObjectDisposedException && !_disposed)
            {
                // (ObjectDisposedException: the Raft member was replaced as this voter joined the voters.)
                await Task.Delay(RetryBackoff, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Every change applied from now on, in log order, on DotNext's applier thread: hand it off quickly (e.g. Tell an actor).</summary>
    public IDisposable Subscribe(Action<MetadataChange> onChange) => _log.Subscribe(onChange);

    private async Task<MetadataResult?> ProposeAsControllerAsync(byte[] record, CancellationToken ct)
    {
        var proposalId = Guid.NewGuid();
        var applied = _log.Expect(proposalId);
        try
        {
            // Returns once the entry is committed by a majority and applied here (RaftCluster.ReplicateAsync waits for apply).
            await _raft.ReplicateAsync(MetadataLog.Envelope(proposalId, record), context: null, ct).ConfigureAwait(false);
        }
        catch (NotLeaderException)
        {
            _log.Forget(proposalId);
            return applied.IsCompletedSuccessfully
                ? applied.Result
                : new Refused(MetadataError.OutcomeUnknown, "the controller lost leadership while committing the record; read the metadata and retry if it did not apply");
        }
        catch
        {
            _log.Forget(proposalId);
            throw;
        }
        return await applied.WaitAsync(ct).ConfigureAwait(false);
    }

    private async Task<MetadataResult?> ForwardAsync(byte[] record, CancellationToken ct)
    {
        if (_raft.Leader is not { } leader || !leader.IsRemote) return null;
        IPEndPoint? endpoint;
        try
        {
            // The channel's port is chosen at start (controller-port 0): after the controller restarted, the copy of
            // its metadata cached here names its old port, so a failed send asks the controller for it again.
            var metadata = await leader.GetMetadataAsync(refresh: _refreshControllerMetadata, ct).ConfigureAwait(false);
            if (!metadata.TryGetValue(ControllerChannel.MetadataKey, out var address) || !IPEndPoint.TryParse(address, out endpoint)) return null;
        }
        catch (Exception ex) when (ex is DotNext.Net.Cluster.MemberUnavailableException || ex is ObjectDisposedException && !_disposed)
        {
            return null; // the leader moved or is unreachable (or this voter just joined the voters): find it again
        }
        switch (await ControllerChannel.SendAsync(endpoint, record, _channelTls, ct).ConfigureAwait(false))
        {
            case ControllerChannel.Answered answered:
                _refreshControllerMetadata = false;
                return MetadataCodec.DecodeResult(answered.Reply);
            case ControllerChannel.NotSent:
                // Nothing was sent; the port is stale (a restarted controller listens elsewhere) or gone: refetch it.
                // (Session 15's refetch waited for a SocketException that SendAsync never threw, so a voter whose cached
                // copy named a restarted controller's old port forwarded into it for good: GroupFailoverTests' 12
                // groups, under load, when the restarted node was elected again.)
                _refreshControllerMetadata = true;
                return null;
            case ControllerChannel.HandshakeFailed:
                // Nothing was sent; whoever answers at that address is not a node of this cluster (logged): look again.
                _refreshControllerMetadata = true;
                return null;
            case ControllerChannel.LostAfterSending lost:
                _refreshControllerMetadata = true;
                return new Refused(MetadataError.OutcomeUnknown, $"the controller at {endpoint} stopped answering after receiving the record ({lost.Reason}); read the metadata and retry if it did not apply");
            default:
                throw new InvalidOperationException("unknown send outcome");
        }
    }

    /// <summary>A proposal forwarded by another voter: commit it if this voter leads, else say so (nothing was appended).</summary>
    private async Task<byte[]> ServeForwardedAsync(byte[] record, CancellationToken ct)
    {
        MetadataResult result;
        if (!IsController)
        {
            result = new Refused(MetadataError.NotController, $"voter {NodeId} is not the controller");
        }
        else
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_settings.UpperElectionTimeout * 5);
            try
            {
                result = await ProposeAsControllerAsync(record, timeout.Token).ConfigureAwait(false)
                    ?? new Refused(MetadataError.NotController, $"voter {NodeId} is not the controller");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                result = new Refused(MetadataError.OutcomeUnknown, $"voter {NodeId} could not commit the record in time (no majority?)");
            }
        }
        return MetadataCodec.Encode(result);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _catchUpWatch.ConfigureAwait(false);
        await _raftGate.WaitAsync().ConfigureAwait(false); // not while JoinVotersAsync swaps the Raft member
        try
        {
            if (_disposed) return;
            _disposed = true;
            try
            {
                await _raft.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                _log.CancelPending();
                _raft.Dispose();
                await _channel.DisposeAsync().ConfigureAwait(false);
                await _wal.DisposeAsync().ConfigureAwait(false);
                await _log.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _raftGate.Release();
        }
    }

    /// <summary>Reads the term of the first entry asked for (the entry's metadata only).</summary>
    private sealed class TermOfFirst : ILogEntryConsumer<IRaftLogEntry, long>
    {
        public static readonly TermOfFirst Instance = new();

        bool ILogEntryConsumer<IRaftLogEntry, long>.LogEntryMetadataOnly => true;

        ValueTask<long> ILogEntryConsumer<IRaftLogEntry, long>.ReadAsync<TEntry, TList>(TList entries, long? snapshotIndex, CancellationToken token) =>
            ValueTask.FromResult(entries[0].Term);
    }

    /// <summary>The fixed voter list, given to DotNext from <see cref="QuorumSettings.Voters"/> (stored and checked in quorum.meta).</summary>
    private sealed class VoterStorage : InMemoryClusterConfigurationStorage<EndPoint>
    {
        protected override void Encode(EndPoint address, ref DotNext.Buffers.BufferWriterSlim<byte> writer) => writer.WriteEndPoint(address);

        protected override EndPoint Decode(ref DotNext.Buffers.SequenceReader reader) => reader.ReadEndPoint();
    }
}
