using Broker.Server.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Server.Controller.Quorum;

/// <summary>
/// A node that follows the metadata log without voting (Kafka's broker-only node, a Raft observer): the cluster grows
/// beyond its fixed voters with these. It keeps an image applied from the records a voter sends (the same
/// <see cref="MetadataStateMachine"/> as the voters, so the same results), long-polls for new ones, reads
/// linearizably through a voter's read barrier and proposes through a voter. It cannot commit, elect or decide
/// anything itself, so it can never form an island. Its image is in memory: after a restart it fetches the voters'
/// image again before it sees any metadata (until then it is empty, as a new voter's is).
/// </summary>
public sealed class MetadataObserver : IMetadataQuorum
{
    private static readonly TimeSpan RetryBackoff = TimeSpan.FromMilliseconds(200);
    private const int LongPollMs = 1000;

    private readonly QuorumSettings _settings;
    private readonly MetadataSubscribers _subscribers = new();
    private readonly Lock _applyLock = new();
    private readonly TaskCompletionSource<IVoterLink> _link = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private MetadataStateMachine _rules = new();
    private volatile MetadataImage _image = MetadataImage.Empty;
    private Task _following = Task.CompletedTask;
    private volatile int _controllerId = -1;

    private readonly ILogger _log;

    public MetadataObserver(QuorumSettings settings, ILoggerFactory? loggerFactory = null)
    {
        if (settings.IsVoter) throw new ArgumentException($"node {settings.NodeId} is a voter", nameof(settings));
        _settings = settings;
        _log = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<MetadataObserver>();
    }

    public int NodeId => _settings.NodeId;

    public IReadOnlySet<int> VoterIds => _settings.VoterIds;

    public MetadataImage Image => _image;

    public bool IsController => false;

    public int? ControllerId => _controllerId > 0 ? _controllerId : null;

    /// <summary>Exceptions thrown by subscribers, kept for diagnosis instead of breaking the applier.</summary>
    internal System.Collections.Concurrent.ConcurrentQueue<Exception> SubscriberFailures => _subscribers.Failures;

    /// <summary>Starts following the log through <paramref name="link"/> (once the node can reach the voters).</summary>
    public void Attach(IVoterLink link)
    {
        if (!_link.TrySetResult(link)) throw new InvalidOperationException("the observer is already attached");
        _following = FollowAsync(link, _stop.Token);
    }

    public async Task<MetadataResult> ProposeAsync(MetadataRecord record, CancellationToken ct)
    {
        var link = await _link.Task.WaitAsync(ct).ConfigureAwait(false);
        var result = await link.ProposeAsync(MetadataCodec.Encode(record), ct).ConfigureAwait(false);
        // Read your writes: what the proposal did is in the image before the caller hears of it.
        if (result is not Refused) await ReadAsync(ct).ConfigureAwait(false);
        return result;
    }

    public async Task<MetadataImage> ReadAsync(CancellationToken ct)
    {
        var link = await _link.Task.WaitAsync(ct).ConfigureAwait(false);
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                // After the barrier the voter holds everything committed before this call, up to target.
                var fetched = await link.FetchAsync(new MetadataFetch(_image.AppliedIndex, Barrier: true, WaitMs: 0), ct).ConfigureAwait(false);
                Apply(fetched);
                var target = fetched.AppliedIndex;
                while (_image.AppliedIndex < target)
                    Apply(await link.FetchAsync(new MetadataFetch(_image.AppliedIndex, Barrier: false, WaitMs: 0), ct).ConfigureAwait(false));
                return _image;
            }
            catch (MetadataUnavailableException)
            {
                await Task.Delay(RetryBackoff, ct).ConfigureAwait(false);
            }
        }
    }

    public IDisposable Subscribe(Action<MetadataChange> onChange) => _subscribers.Add(onChange);

    private async Task FollowAsync(IVoterLink link, CancellationToken ct)
    {
        long? unavailableSince = null;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                Apply(await link.FetchAsync(new MetadataFetch(_image.AppliedIndex, Barrier: false, WaitMs: LongPollMs), ct).ConfigureAwait(false));
                if (unavailableSince is { } since)
                {
                    _log.ObserverAnsweredAgain(NodeId, (Environment.TickCount64 - since) / 1000.0, _image.AppliedIndex);
                    unavailableSince = null;
                }
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // No voter answered (MetadataUnavailableException), or the node's ActorSystem is going away under the
                // link: keep following until disposed, so one bad answer never stops this node's metadata for good. Said
                // once per outage (a voter restarting is routine); anything else (a record this node cannot apply) each time.
                if (ex is not MetadataUnavailableException)
                {
                    _log.ObserverCannotApply(NodeId, _image.AppliedIndex, ex);
                }
                else if (unavailableSince is null)
                {
                    _log.ObserverUnanswered(NodeId, ex.Message, _image.AppliedIndex);
                }
                unavailableSince ??= Environment.TickCount64;
                try
                {
                    await Task.Delay(RetryBackoff, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Applies what a voter sent, in log order, skipping what this node applied already (answers may cross).</summary>
    internal void Apply(MetadataFetched fetched)
    {
        lock (_applyLock)
        {
            if (fetched.ControllerId > 0) _controllerId = fetched.ControllerId;
            if (fetched.Snapshot is { } snapshot && fetched.AppliedIndex > _image.AppliedIndex)
            {
                var image = MetadataCodec.Decode(snapshot) as MetadataImage
                    ?? throw new Broker.Protocol.Serialization.WireFormatException("a voter sent a metadata snapshot that is not an image");
                _rules = new MetadataStateMachine(image);
                _image = image;
                _subscribers.Publish(new SnapshotLoaded(image.AppliedIndex, image));
            }
            foreach (var fetchedRecord in fetched.Records)
            {
                if (fetchedRecord.Index <= _image.AppliedIndex) continue;
                var record = MetadataCodec.DecodeRecord(fetchedRecord.Record);
                var previous = _image;
                var result = _rules.Apply(record, fetchedRecord.Index);
                _image = _rules.Image;
                _subscribers.Publish(new RecordApplied(fetchedRecord.Index, record, fetchedRecord.Record, result, previous, _image));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _following.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
        _stop.Dispose();
    }
}
