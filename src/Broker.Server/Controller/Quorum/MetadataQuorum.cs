using System.Net;
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

    private readonly QuorumSettings _settings;
    private readonly MetadataLog _log;
    private readonly WriteAheadLog _wal;
    private readonly RaftCluster _raft;
    private readonly ControllerChannel _channel;
    private readonly System.Net.Security.SslClientAuthenticationOptions? _channelTls;
    private bool _disposed;

    private MetadataQuorum(QuorumSettings settings, MetadataLog log, WriteAheadLog wal, RaftCluster raft, ControllerChannel channel, System.Net.Security.SslClientAuthenticationOptions? channelTls)
    {
        _settings = settings;
        _log = log;
        _wal = wal;
        _raft = raft;
        _channel = channel;
        _channelTls = channelTls;
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
        var tlsLog = loggerFactory.CreateLogger<MetadataQuorum>();
        var tls = settings.Tls is { } nodeTls ? new SslOptions { ServerOptions = nodeTls.ServerOptions(tlsLog.RefusedTlsPeer), ClientOptions = nodeTls.ClientOptions(tlsLog.RefusedTlsPeer) } : null;
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
            channel = new ControllerChannel(settings.ControllerEndpoint, (request, token) => quorum!.ServeForwardedAsync(request, token), tls?.ServerOptions, tlsLog);
            channel.Start();
        }
        catch
        {
            if (channel is not null) await channel.DisposeAsync().ConfigureAwait(false);
            if (wal is not null) await wal.DisposeAsync().ConfigureAwait(false);
            await log.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var storage = new VoterStorage();
        var initial = storage.CreateInitialConfigurationBuilder();
        foreach (var voter in settings.Voters) initial.Add(voter.Endpoint);
        initial.Build();

        var config = new RaftCluster.TcpConfiguration(settings.Self.Endpoint)
        {
            // Never a one-member cluster on its own: the voters are the fixed list above, a majority of which must vote.
            ColdStart = false,
            Standby = settings.NeverLeads,
            ConfigurationStorage = storage,
            LowerElectionTimeout = (int)settings.LowerElectionTimeout.TotalMilliseconds,
            UpperElectionTimeout = (int)settings.UpperElectionTimeout.TotalMilliseconds,
            RequestTimeout = settings.RequestTimeout,
            ConnectTimeout = settings.ConnectTimeout,
            LoggerFactory = loggerFactory,
            SslOptions = tls,
        };
        config.Metadata[ControllerChannel.MetadataKey] = channel.Endpoint.ToString();
        var raft = new RaftCluster(config) { AuditTrail = wal };
        quorum = new MetadataQuorum(settings, log, wal, raft, channel, tls?.ClientOptions);
        try
        {
            await raft.StartAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await quorum.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return quorum;
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
            catch (Exception ex) when (ex is QuorumUnreachableException or DotNext.Net.Cluster.MemberUnavailableException)
            {
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
        catch (DotNext.Net.Cluster.MemberUnavailableException)
        {
            return null; // the leader moved or is unreachable: find it again
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

    /// <summary>The fixed voter list, given to DotNext from <see cref="QuorumSettings.Voters"/> (stored and checked in quorum.meta).</summary>
    private sealed class VoterStorage : InMemoryClusterConfigurationStorage<EndPoint>
    {
        protected override void Encode(EndPoint address, ref DotNext.Buffers.BufferWriterSlim<byte> writer) => writer.WriteEndPoint(address);

        protected override EndPoint Decode(ref DotNext.Buffers.SequenceReader reader) => reader.ReadEndPoint();
    }
}
