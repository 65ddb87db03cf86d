using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;

namespace Broker.Server.Partitions;

// Serving the log of a partition replica (PartitionLog): consumer fetches, cold reads from the journal, list
// offsets, delete records, and journaling retention and snapshots. Leaders and followers share all of it.
public sealed partial class PartitionActor
{
    private readonly Dictionary<long, (FetchRequest Request, IActorRef ReplyTo)> _waitingFetches = new();
    private readonly Dictionary<long, Action<ColdBatchesRead>> _coldReads = new();

    private long _pendingDeleteToSeq;
    private long _requestIds;
    private readonly Queue<long> _timestampsToVerify = new(); // base offsets a snapshot indexed with an unchecked timestamp
    private int _timestampsVerified;

    // ---- consumer fetches (leaders, and in-sync followers for consumers in their rack) ----

    /// <summary>The leader epoch this replica serves in: its own while leading, else the newest it has seen.</summary>
    private int ServingEpoch => _leader.IsLeader ? _leader.Epoch : Math.Max(_follower.KnownLeaderEpoch, _log.Epochs.LatestEpoch);

    /// <summary>
    /// KIP-320: a fetch names the leader epoch its client last saw. Answers and returns true when the epochs
    /// disagree: this replica is stale (NotLeader, the client retries elsewhere) or the client is (FencedLeaderEpoch).
    /// </summary>
    private bool RefuseOtherEpoch(FetchRequest request, IActorRef replyTo)
    {
        if (_replies.EpochMismatch(request, request.CurrentLeaderEpoch, ServingEpoch) is not { } refusal) return false;
        replyTo.Tell(refusal);
        return true;
    }

    /// <summary>A follower serves a consumer in its rack up to its own high watermark; past its log end it cannot, yet.</summary>
    private void FollowerFetch(FetchRequest request, IActorRef replyTo)
    {
        if (RefuseOtherEpoch(request, replyTo)) return;
        if (request.Offset > _log.LogEnd)
        {
            replyTo.Tell(_replies.FetchError(request, ErrorCode.NotLeader, $"the replica of {Name} on node {_nodeId} ends at offset {_log.LogEnd}, before {request.Offset}; retry shortly (it is catching up)"));
            return;
        }
        Fetch(request, replyTo);
    }

    private void Fetch(FetchRequest request, IActorRef replyTo)
    {
        if (request.Offset < _log.LogStart || request.Offset > _log.LogEnd)
        {
            replyTo.Tell(_replies.FetchError(request, ErrorCode.OffsetOutOfRange,
                $"offset {request.Offset} is out of range for {Name}: valid offsets are {_log.LogStart} (log start) to {_log.HighWatermark} (high watermark); seek to one of them"));
            return;
        }
        if (request.Offset >= _log.HighWatermark)
        {
            // Nothing committed there yet (also a new leader whose high watermark is still catching up): wait.
            if (request.MaxWaitMs <= 0)
            {
                replyTo.Tell(Fetched(ReadOnlyMemory<byte>.Empty));
                return;
            }
            var id = ++_requestIds;
            _waitingFetches[id] = (request, replyTo);
            Timers.StartSingleTimer(id, new FetchWaitExpired(id), TimeSpan.FromMilliseconds(request.MaxWaitMs));
            return;
        }

        var maxBytes = request.MaxBytes <= 0 ? _settings.MaxRequestBytes : Math.Min(request.MaxBytes, _settings.MaxRequestBytes);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        Read(request.Offset, maxBytes, _log.HighWatermark, (records, failure) =>
        {
            _metrics.FetchRead(started);
            replyTo.Tell(failure is null ? Fetched(records) : _replies.FetchError(request, ErrorCode.Unknown, failure));
        });
    }

    /// <summary>Reads whole batches from the one holding <paramref name="offset"/>, up to maxBytes (at least one) and below <paramref name="endOffset"/>.</summary>
    private void Read(long offset, int maxBytes, long endOffset, Action<ReadOnlyMemory<byte>, string?> then)
    {
        var first = _log.Index.Find(offset);
        if (first < 0)
        {
            then(ReadOnlyMemory<byte>.Empty, null);
            return;
        }
        var batchBase = _log.Index.BaseOffset(first);
        if (batchBase >= _log.Tail.FirstOffset)
        {
            then(_log.Tail.Read(batchBase, maxBytes, endOffset) ?? ReadOnlyMemory<byte>.Empty, null);
            return;
        }
        ReadCold(first, maxBytes, endOffset, read => then(read.Failure is null ? Concat(read.Batches) : ReadOnlyMemory<byte>.Empty, read.Failure));
    }

    private void ServeWaitingFetches()
    {
        if (_waitingFetches.Count == 0) return;
        List<long>? served = null;
        foreach (var (id, (request, replyTo)) in _waitingFetches)
        {
            if (request.Offset >= _log.HighWatermark) continue;
            Timers.Cancel(id);
            (served ??= new()).Add(id);
            Fetch(request with { MaxWaitMs = 0 }, replyTo);
        }
        if (served is null) return;
        foreach (var id in served) _waitingFetches.Remove(id);
    }

    private void OnFetchWaitExpired(FetchWaitExpired expired)
    {
        if (_waitingFetches.Remove(expired.RequestId, out var waiting))
            waiting.ReplyTo.Tell(Fetched(ReadOnlyMemory<byte>.Empty));
        else OnReplicaFetchWaitExpired(expired.RequestId);
    }

    private FetchResponse Fetched(ReadOnlyMemory<byte> records)
    {
        _metrics.Fetched(_topic, records.Span);
        return new(_topic, _partition, ErrorCode.None, null, _log.HighWatermark, _log.LogStart, records) { LeaderEpoch = ServingEpoch };
    }

    /// <summary>Reads batches from index position <paramref name="first"/> back from the journal, up to maxBytes (at least one batch) and below endOffset.</summary>
    private void ReadCold(int first, int maxBytes, long endOffset, Action<ColdBatchesRead> then)
    {
        var last = _log.Index.LastOfRead(first, maxBytes, endOffset, out _);
        var id = ++_requestIds;
        // A truncated suffix leaves orphaned events between live ones: keep only the sequence numbers the index names.
        var wanted = new HashSet<long>();
        for (var i = first; i <= last; i++) wanted.Add(_log.Index.SequenceNr(i));
        _coldReads[id] = read =>
        {
            read.Batches.RemoveAll(b => !wanted.Contains(b.SequenceNr));
            then(read);
        };
        var (from, to) = (_log.Index.SequenceNr(first), _log.Index.SequenceNr(last));
        if (!_batchReaderChecked)
        {
            _batchReader = JournalBatchReader.For(Context.System.Settings.Config);
            _batchReaderChecked = true;
        }
        if (_batchReader is { } reader)
        {
            var persistenceId = PersistenceId;
            Task.Run(() => reader.Read(persistenceId, from, to, id)).PipeTo(Self);
            return;
        }
        var journal = Persistence.Instance.Apply(Context.System).JournalFor(null);
        Context.ActorOf(ColdReaderActor.Props(journal, PersistenceId, from, to, id, _settings.RequestTimeout));
    }

    /// <summary>Reads cold batches straight from the SQLite journal (null: the journal is something else, so replays are used).</summary>
    private JournalBatchReader? _batchReader;
    private bool _batchReaderChecked;

    private void OnColdBatchesRead(ColdBatchesRead read)
    {
        if (_coldReads.Remove(read.RequestId, out var then)) then(read);
    }

    private static byte[] Concat(List<(long SequenceNr, byte[] Batch)> batches)
    {
        var total = 0;
        foreach (var b in batches) total += b.Batch.Length;
        var buffer = GC.AllocateUninitializedArray<byte>(total); // every byte is copied over below
        var position = 0;
        foreach (var b in batches)
        {
            b.Batch.CopyTo(buffer, position);
            position += b.Batch.Length;
        }
        return buffer;
    }

    // ---- list offsets ----

    private void ListOffsets(ListOffsetsRequest request)
    {
        var replyTo = Sender;
        switch (request.Timestamp)
        {
            case OffsetSpec.Earliest:
                replyTo.Tell(Offset(_log.LogStart, -1));
                return;
            case OffsetSpec.Latest:
                replyTo.Tell(Offset(_log.HighWatermark, -1));
                return;
            case OffsetSpec.MaxTimestamp:
                break;
            case < 0:
                replyTo.Tell(new ListOffsetsResponse(_topic, _partition, ErrorCode.InvalidRequest,
                    $"timestamp {request.Timestamp} is invalid: use -2 (earliest), -1 (latest), -3 (largest timestamp) or a Unix time in milliseconds", -1, -1));
                return;
        }

        var i = _log.FindCommittedBatch(request.Timestamp, out var target);
        if (i < 0)
        {
            replyTo.Tell(Offset(-1, -1));
            return;
        }
        var batchBase = _log.Index.BaseOffset(i);
        var cached = batchBase >= _log.Tail.FirstOffset ? _log.Tail.Read(batchBase, 1) : null;
        if (cached is not null)
        {
            replyTo.Tell(FirstRecordAtOrAfter(cached, target));
            return;
        }
        ReadCold(i, 1, long.MaxValue, read => replyTo.Tell(read.Failure is null && read.Batches.Count > 0
            ? FirstRecordAtOrAfter(read.Batches[0].Batch, target)
            : new ListOffsetsResponse(_topic, _partition, ErrorCode.Unknown, read.Failure ?? "batch vanished", -1, -1)));
    }

    // Reads (and, if compressed, decompresses) the one batch the index points at. Appends check a batch's CRC, not
    // that its compressed records decompress (bytes stay bytes), so a producer's garbage is answered, not thrown.
    private ListOffsetsResponse FirstRecordAtOrAfter(byte[] batch, long timestamp)
    {
        try
        {
            var reader = new RecordBatchReader(batch);
            while (reader.TryReadNext(out var record))
            {
                if (record.Timestamp >= timestamp) return Offset(record.Offset, record.Timestamp);
            }
            return Offset(-1, -1);
        }
        catch (InvalidDataException ex)
        {
            _logger.Warning("partition {0}: the batch searched for timestamp {1} does not read: {2}", Name, timestamp, ex.Message);
            return new ListOffsetsResponse(_topic, _partition, ErrorCode.CorruptRecord, $"{Name}: the batch holding timestamp {timestamp} does not read: {ex.Message}", -1, -1);
        }
    }

    private ListOffsetsResponse Offset(long offset, long timestamp) =>
        new(_topic, _partition, ErrorCode.None, null, offset, timestamp);

    // ---- where an epoch ends (Kafka's OffsetForLeaderEpoch, KIP-320) ----

    /// <summary>
    /// A consumer validating its position after a leader change: the largest epoch at or below the one asked and
    /// where it ends here (the log end for the newest), from the same epoch cache followers truncate by. The
    /// client's current epoch is checked as a fetch's is: older is fenced, newer means this leader is behind.
    /// </summary>
    private void OffsetForLeaderEpoch(OffsetForLeaderEpochRequest request)
    {
        if (_replies.EpochMismatch(request, request.CurrentLeaderEpoch, ServingEpoch) is { } refusal)
        {
            Sender.Tell(refusal);
            return;
        }
        var (epoch, end) = _log.Epochs.EndOffsetFor(request.LeaderEpoch, _log.LogEnd);
        Sender.Tell(new OffsetForLeaderEpochResponse(_topic, _partition, ErrorCode.None, null, epoch, end));
    }

    // ---- idempotent producers (Kafka's DescribeProducers) ----

    /// <summary>The producers whose batches are in the log, as the next snapshot would keep them.</summary>
    private void DescribeProducers(DescribeProducersRequest request)
    {
        var states = _log.Producers.ToSnapshot(_log.LogEnd);
        var producers = new ProducerDescription[states.Length];
        for (var i = 0; i < states.Length; i++)
        {
            var s = states[i];
            producers[i] = new ProducerDescription(s.ProducerId, s.Epoch, s.Batches[^1].LastSeq, s.LastTimestamp);
        }
        Sender.Tell(new DescribeProducersResponse(_topic, _partition, ErrorCode.None, null, producers));
    }

    // ---- deleting records (Kafka's DeleteRecords) ----

    /// <summary>
    /// Moves the log start to the requested offset (the high watermark for -1), journaled so it survives a restart;
    /// the journal rows of the whole batches below it are deleted after the next snapshot, as retention does.
    /// Followers move their log start up to the leader's as they fetch (FollowerState.FollowedLogStart), as Kafka's do.
    /// </summary>
    private void DeleteRecords(DeleteRecordsRequest request)
    {
        var offset = request.Offset == -1 ? _log.HighWatermark : request.Offset;
        if (offset < 0 || offset > _log.HighWatermark)
        {
            Sender.Tell(new DeleteRecordsResponse(_topic, _partition, ErrorCode.OffsetOutOfRange,
                $"cannot delete records of {Name} below {request.Offset}: valid offsets are up to the high watermark {_log.HighWatermark} (-1 for it)", _log.LogStart));
            return;
        }
        if (offset <= _log.LogStart)
        {
            Sender.Tell(new DeleteRecordsResponse(_topic, _partition, ErrorCode.None, null, _log.LogStart));
            return;
        }
        var replyTo = Sender;
        Persist(new RecordsDeleted(offset), e =>
        {
            var deleteTo = _log.DropBefore(e.Offset);
            _logger.Info("partition {0}: records below {1} deleted on request; log start is now {2}", Name, e.Offset, _log.LogStart);
            if (deleteTo > 0) _pendingDeleteToSeq = Math.Max(_pendingDeleteToSeq, deleteTo);
            TakeSnapshot();
            replyTo.Tell(new DeleteRecordsResponse(_topic, _partition, ErrorCode.None, null, _log.LogStart));
        });
    }

    // ---- retention, snapshots ----

    private void ApplyRetention()
    {
        var idle = _log.ExpireProducers(_settings.ProducerIdExpiration);
        if (idle > 0) _logger.Info("partition {0}: forgot {1} idempotent producer(s) idle for longer than {2}", Name, idle, _settings.ProducerIdExpiration);
        var dropped = _log.ApplyRetention(_config.RetentionMs, _config.RetentionBytes, out var deleteTo);
        if (dropped == 0) return;
        _logger.Info("partition {0}: retention removed {1} batches; log start is now {2}", Name, dropped, _log.LogStart);
        // Snapshot the trimmed index first; the journal rows are deleted once it is saved, so a crash in
        // between never leaves an index pointing at deleted events.
        _pendingDeleteToSeq = Math.Max(_pendingDeleteToSeq, deleteTo);
        TakeSnapshot();
    }

    private void MaybeSnapshot()
    {
        if (_log.SnapshotDue(_settings.SnapshotEveryBatches, _settings.SnapshotEveryBytes)) TakeSnapshot();
    }

    private void TakeSnapshot()
    {
        _log.SnapshotTaken();
        SaveSnapshot(_log.ToSnapshot());
    }

    private void OnSnapshotSaved(SaveSnapshotSuccess saved)
    {
        DeleteSnapshots(new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1));
        if (_pendingDeleteToSeq > 0 && _pendingDeleteToSeq <= saved.Metadata.SequenceNr)
        {
            DeleteMessages(_pendingDeleteToSeq);
            _pendingDeleteToSeq = 0;
        }
    }

    /// <summary>
    /// Reads back, a few batches at a time, the batches a snapshot indexed with a client's unchecked max timestamp,
    /// and indexes them at their records' own max timestamp; a snapshot then keeps the corrected values.
    /// </summary>
    private void VerifyRestoredTimestamps()
    {
        while (_timestampsToVerify.TryPeek(out var baseOffset))
        {
            var i = _log.Index.Find(baseOffset);
            if (i >= 0 && _log.Index.BaseOffset(i) == baseOffset) break;
            _timestampsToVerify.Dequeue(); // gone meanwhile (retention by size, truncation)
        }
        if (_timestampsToVerify.Count == 0)
        {
            if (_timestampsVerified > 0)
            {
                _logger.Info("partition {0}: indexed {1} batch(es) stored before validation at their records' own timestamps", Name, _timestampsVerified);
                _timestampsVerified = 0;
                TakeSnapshot();
            }
            return;
        }
        var first = _log.Index.Find(_timestampsToVerify.Peek());
        ReadCold(first, _settings.ReplicaFetchMaxBytes, long.MaxValue, read =>
        {
            if (read.Failure is not null)
            {
                _logger.Warning("partition {0}: reading back batches to check their timestamps failed ({1}); they stay held from time-based retention until the next start", Name, read.Failure);
                _timestampsToVerify.Clear();
                return;
            }
            foreach (var (_, batch) in read.Batches)
            {
                if (!RecordBatch.TryReadHeader(batch, out var header)) continue;
                var at = _log.Index.Find(header.BaseOffset);
                if (at < 0 || _log.Index.BaseOffset(at) != header.BaseOffset) continue;
                var fromRecords = RecordsScan.MaxTimestampOf(batch);
                if (fromRecords >= 0) _log.Index.SetMaxTimestamp(at, fromRecords);
                _timestampsVerified++;
                if (_timestampsToVerify.TryPeek(out var next) && next == header.BaseOffset) _timestampsToVerify.Dequeue();
            }
            if (read.Batches.Count == 0) _timestampsToVerify.Dequeue(); // nothing came back for it: leave it held
            VerifyRestoredTimestamps();
        });
    }

    private void Purge()
    {
        _logger.Info("partition {0}: deleting the log of a previous incarnation of the topic", Name);
        DeleteMessages(LastSequenceNr);
        DeleteSnapshots(new SnapshotSelectionCriteria(long.MaxValue));
        _log.StartIncarnation("");
    }
}
