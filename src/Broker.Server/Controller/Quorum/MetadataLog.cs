using System.Buffers;
using System.Collections.Concurrent;
using Broker.Protocol.Serialization;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace Broker.Server.Controller.Quorum;

/// <summary>
/// The Raft state machine of the metadata quorum: decodes each committed entry, applies it with
/// <see cref="MetadataStateMachine"/>, completes the proposer waiting for it (by proposal id, on whichever node
/// proposed it), tells subscribers, and writes a snapshot of the image every <c>snapshotEvery</c> entries so the
/// write-ahead log can drop older chunks. DotNext calls <see cref="ApplyAsync"/> for one entry at a time, in order.
/// </summary>
internal sealed class MetadataLog(DirectoryInfo snapshots, int snapshotEvery) : SimpleStateMachine(snapshots)
{
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<MetadataResult>> _pending = new();
    private readonly MetadataSubscribers _subscribers = new();
    private MetadataStateMachine _rules = new();
    private volatile MetadataImage _image = MetadataImage.Empty;
    private MetadataImage _snapshotImage = MetadataImage.Empty;

    public MetadataImage Image => _image;

    /// <summary>An entry: the proposal id (so the proposer finds its result) and the encoded record.</summary>
    public static byte[] Envelope(Guid proposalId, ReadOnlySpan<byte> record)
    {
        using var w = new WireWriter(record.Length + 32);
        Span<byte> id = stackalloc byte[16];
        proposalId.TryWriteBytes(id);
        w.WriteBytes(id);
        w.WriteBytes(record);
        return w.ToArray();
    }

    public Task<MetadataResult> Expect(Guid proposalId)
    {
        var tcs = new TaskCompletionSource<MetadataResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[proposalId] = tcs;
        return tcs.Task;
    }

    public void Forget(Guid proposalId) => _pending.TryRemove(proposalId, out _);

    public IDisposable Subscribe(Action<MetadataChange> onChange) => _subscribers.Add(onChange);

    protected override ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        // Empty entries are the no-ops a new Raft leader commits; configuration entries belong to Raft itself.
        if (entry.IsConfiguration || entry.Length is 0) return ValueTask.FromResult(false);
        var bytes = entry.TryGetPayload(out var sequence) ? sequence.ToArray() : Concat(entry.GetPayload());
        if (bytes.Length == 0) return ValueTask.FromResult(false);
        var r = new WireReader(bytes);
        var proposalId = new Guid(r.ReadBytesAsMemory().Span);
        var encoded = r.ReadBytesAsMemory();
        var record = MetadataCodec.DecodeRecord(encoded);
        r.EnsureEnd();

        var previous = _image;
        var result = _rules.Apply(record, entry.Index);
        var image = _image = _rules.Image;
        if (_pending.TryRemove(proposalId, out var waiting)) waiting.TrySetResult(result);
        Publish(new RecordApplied(entry.Index, record, encoded, result, previous, image));

        var snapshotNow = snapshotEvery > 0 && entry.Index % snapshotEvery == 0;
        if (snapshotNow) _snapshotImage = image;
        return ValueTask.FromResult(snapshotNow);
    }

    protected override ValueTask PersistAsync(IAsyncBinaryWriter writer, CancellationToken token) =>
        writer.Invoke(MetadataCodec.Encode(_snapshotImage), token);

    protected override async ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token)
    {
        var bytes = await File.ReadAllBytesAsync(snapshotFile.FullName, token).ConfigureAwait(false);
        var image = MetadataCodec.Decode(bytes) as MetadataImage ?? throw new WireFormatException($"{snapshotFile.FullName} is not a metadata image");
        _rules = new MetadataStateMachine(image);
        _image = image;
        Publish(new SnapshotLoaded(image.AppliedIndex, image));
    }

    /// <summary>Ends every proposal still waiting (the voter is stopping): their outcome is unknown to this voter.</summary>
    public void CancelPending()
    {
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var waiting)) waiting.TrySetCanceled();
        }
    }

    private void Publish(MetadataChange change) => _subscribers.Publish(change);

    /// <summary>Exceptions thrown by subscribers, kept for diagnosis (and tests) instead of breaking the applier.</summary>
    public ConcurrentQueue<Exception> SubscriberFailures => _subscribers.Failures;

    private static byte[] Concat(IEnumerable<ReadOnlyMemory<byte>> parts)
    {
        var buffer = new ArrayBufferWriter<byte>();
        foreach (var part in parts) buffer.Write(part.Span);
        return buffer.WrittenSpan.ToArray();
    }
}
