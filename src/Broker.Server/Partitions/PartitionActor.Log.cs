using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;

namespace Broker.Server.Partitions;

// The log of a partition replica: offsets, index, tail cache, cold reads, consumer fetches, list offsets,
// retention, truncation and snapshots. Leaders and followers share all of it.
public sealed partial class PartitionActor
{
    private readonly OffsetIndex _index = new();
    private readonly TailCache _tail;
    private readonly LeaderEpochCache _epochs = new();
    private readonly ProducerStates _producers = new();
    private readonly Dictionary<long, (FetchRequest Request, IActorRef ReplyTo)> _waitingFetches = new();
    private readonly Dictionary<long, Action<ColdBatchesRead>> _coldReads = new();

    private string? _topicId;
    private long _logStart;
    private long _logEnd;          // next offset after the last persisted batch (this replica's log end offset)
    private long _highWatermark;   // consumers read below it: every in-sync replica has these records
    private int _batchesSinceSnapshot;
    private long _bytesSinceSnapshot;
    private long _pendingDeleteToSeq;
    private long _requestIds;
    private readonly Queue<long> _timestampsToVerify = new(); // base offsets a snapshot indexed with an unchecked timestamp
    private int _timestampsVerified;

    /// <summary>Applies a persisted batch to the in-memory state: appends, replication and recovery all come here.</summary>
    private void Appended(byte[] batch, long sequenceNr)
    {
        RecordBatch.TryReadHeader(batch, out var header);
        _index.Append(header.BaseOffset, header.RecordCount, sequenceNr, IndexTimestamp.For(batch, header, NowUnixMs), batch.Length);
        _tail.Add(header.BaseOffset, batch);
        _epochs.Assign(header.PartitionLeaderEpoch, header.BaseOffset);
        _producers.Record(header, header.BaseOffset);
        _logEnd = header.BaseOffset + header.RecordCount;
        _batchesSinceSnapshot++;
        _bytesSinceSnapshot += batch.Length;
    }

    /// <summary>Drops every batch that ends after <paramref name="offset"/> (whole batches only).</summary>
    private void TruncateTo(long offset)
    {
        var drop = 0;
        while (drop < _index.Count && _index.NextOffsetAfter(_index.Count - 1 - drop) > offset) drop++;
        if (drop > 0) _index.RemoveLast(drop);
        _logEnd = _index.Count > 0 ? _index.NextOffsetAfter(_index.Count - 1) : Math.Min(_logEnd, Math.Max(_logStart, offset));
        if (_logEnd < _logStart) _logStart = _logEnd;
        _tail.TruncateFrom(_logEnd);
        _epochs.TruncateFromEnd(_logEnd);
        _producers.TruncateFrom(_logEnd);
        _highWatermark = Math.Min(_highWatermark, _logEnd);
    }

    /// <summary>Drops every batch: the log continues at <paramref name="offset"/>, which lies past all of them.</summary>
    private void StartLogAt(long offset)
    {
        _index.Clear();
        _tail.Clear();
        _epochs.Clear(); // the fetched batches bring their epochs; the old ones describe offsets this log no longer has
        _producers.Clear(); // and their producers: a producer this replica does not know may continue at any sequence
        _logStart = _logEnd = _nextOffset = offset;
        _highWatermark = Math.Max(_highWatermark, offset);
    }

    // ---- consumer fetches (leaders, and in-sync followers for consumers in their rack) ----

    /// <summary>The leader epoch this replica serves in: its own while leading, else the newest it has seen.</summary>
    private int ServingEpoch => _isLeader ? _leaderEpoch : Math.Max(_knownLeaderEpoch, _epochs.LatestEpoch);

    /// <summary>
    /// KIP-320: a fetch names the leader epoch its client last saw. Answers and returns true when the epochs
    /// disagree: this replica is stale (NotLeader, the client retries elsewhere) or the client is (FencedLeaderEpoch).
    /// </summary>
    private bool RefuseOtherEpoch(FetchRequest request, IActorRef replyTo)
    {
        var mine = ServingEpoch;
        if (request.CurrentLeaderEpoch < 0 || request.CurrentLeaderEpoch == mine) return false;
        replyTo.Tell(request.CurrentLeaderEpoch > mine
            ? FetchError(request, ErrorCode.NotLeader, $"the replica of {Name} on node {_nodeId} is in leader epoch {mine}, behind the epoch {request.CurrentLeaderEpoch} the client saw; retry, the request goes to a current replica")
            : FetchError(request, ErrorCode.FencedLeaderEpoch, $"the client saw leader epoch {request.CurrentLeaderEpoch} of {Name}, older than the current {mine}; it refreshes and retries"));
        return true;
    }

    /// <summary>A follower serves a consumer in its rack up to its own high watermark; past its log end it cannot, yet.</summary>
    private void FollowerFetch(FetchRequest request, IActorRef replyTo)
    {
        if (RefuseOtherEpoch(request, replyTo)) return;
        if (request.Offset > _logEnd)
        {
            replyTo.Tell(FetchError(request, ErrorCode.NotLeader, $"the replica of {Name} on node {_nodeId} ends at offset {_logEnd}, before {request.Offset}; retry shortly (it is catching up)"));
            return;
        }
        Fetch(request, replyTo);
    }

    private void Fetch(FetchRequest request, IActorRef replyTo)
    {
        if (request.Offset < _logStart || request.Offset > _logEnd)
        {
            replyTo.Tell(FetchError(request, ErrorCode.OffsetOutOfRange,
                $"offset {request.Offset} is out of range for {Name}: valid offsets are {_logStart} (log start) to {_highWatermark} (high watermark); seek to one of them"));
            return;
        }
        if (request.Offset >= _highWatermark)
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
        Read(request.Offset, maxBytes, _highWatermark, (records, failure) =>
        {
            _metrics.FetchRead(started);
            replyTo.Tell(failure is null ? Fetched(records) : FetchError(request, ErrorCode.Unknown, failure));
        });
    }

    /// <summary>Reads whole batches from the one holding <paramref name="offset"/>, up to maxBytes (at least one) and below <paramref name="endOffset"/>.</summary>
    private void Read(long offset, int maxBytes, long endOffset, Action<ReadOnlyMemory<byte>, string?> then)
    {
        var first = _index.Find(offset);
        if (first < 0)
        {
            then(ReadOnlyMemory<byte>.Empty, null);
            return;
        }
        var batchBase = _index.BaseOffset(first);
        if (batchBase >= _tail.FirstOffset)
        {
            then(_tail.Read(batchBase, maxBytes, endOffset) ?? ReadOnlyMemory<byte>.Empty, null);
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
            if (request.Offset >= _highWatermark) continue;
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
        return new(_topic, _partition, ErrorCode.None, null, _highWatermark, _logStart, records) { LeaderEpoch = ServingEpoch };
    }

    private FetchResponse FetchError(FetchRequest request, ErrorCode error, string message) =>
        new(request.Topic, request.Partition, error, message, _highWatermark, _logStart, ReadOnlyMemory<byte>.Empty) { LeaderEpoch = ServingEpoch };

    /// <summary>Reads batches from index position <paramref name="first"/> back from the journal, up to maxBytes (at least one batch) and below endOffset.</summary>
    private void ReadCold(int first, int maxBytes, long endOffset, Action<ColdBatchesRead> then)
    {
        var last = first;
        long total = _index.Size(first);
        while (last + 1 < _index.Count && _index.BaseOffset(last + 1) < endOffset && total + _index.Size(last + 1) <= maxBytes) total += _index.Size(++last);
        var id = ++_requestIds;
        // A truncated suffix leaves orphaned events between live ones: keep only the sequence numbers the index names.
        var wanted = new HashSet<long>();
        for (var i = first; i <= last; i++) wanted.Add(_index.SequenceNr(i));
        _coldReads[id] = read =>
        {
            read.Batches.RemoveAll(b => !wanted.Contains(b.SequenceNr));
            then(read);
        };
        var journal = Persistence.Instance.Apply(Context.System).JournalFor(null);
        Context.ActorOf(ColdReaderActor.Props(journal, PersistenceId, _index.SequenceNr(first), _index.SequenceNr(last), id, _settings.RequestTimeout));
    }

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
                replyTo.Tell(Offset(_logStart, -1));
                return;
            case OffsetSpec.Latest:
                replyTo.Tell(Offset(_highWatermark, -1));
                return;
            case OffsetSpec.MaxTimestamp:
                break;
            case < 0:
                replyTo.Tell(new ListOffsetsResponse(_topic, _partition, ErrorCode.InvalidRequest,
                    $"timestamp {request.Timestamp} is invalid: use -2 (earliest), -1 (latest), -3 (largest timestamp) or a Unix time in milliseconds", -1, -1));
                return;
        }

        // First committed batch whose max timestamp reaches the target; the record is inside it. For the largest
        // timestamp (-3), the first committed batch holding it, and its first record with that timestamp.
        var target = request.Timestamp;
        var i = 0;
        if (target == OffsetSpec.MaxTimestamp)
        {
            var largest = -1;
            for (var j = 0; j < _index.Count && _index.BaseOffset(j) < _highWatermark; j++)
                if (largest < 0 || _index.MaxTimestamp(j) > _index.MaxTimestamp(largest)) largest = j;
            i = largest < 0 ? _index.Count : largest;
            if (largest >= 0) target = _index.MaxTimestamp(largest);
        }
        else
        {
            while (i < _index.Count && _index.BaseOffset(i) < _highWatermark && _index.MaxTimestamp(i) < target) i++;
        }
        if (i == _index.Count || _index.BaseOffset(i) >= _highWatermark)
        {
            replyTo.Tell(Offset(-1, -1));
            return;
        }
        var batchBase = _index.BaseOffset(i);
        var cached = batchBase >= _tail.FirstOffset ? _tail.Read(batchBase, 1) : null;
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
            _log.Warning("partition {0}: the batch searched for timestamp {1} does not read: {2}", Name, timestamp, ex.Message);
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
        var mine = ServingEpoch;
        if (request.CurrentLeaderEpoch >= 0 && request.CurrentLeaderEpoch != mine)
        {
            Sender.Tell(request.CurrentLeaderEpoch > mine
                ? new OffsetForLeaderEpochResponse(_topic, _partition, ErrorCode.NotLeader, $"the leader of {Name} on node {_nodeId} is in epoch {mine}, behind the epoch {request.CurrentLeaderEpoch} the client saw; retry", -1, -1)
                : new OffsetForLeaderEpochResponse(_topic, _partition, ErrorCode.FencedLeaderEpoch, $"the client saw leader epoch {request.CurrentLeaderEpoch} of {Name}, older than the current {mine}; it refreshes and retries", -1, -1));
            return;
        }
        var (epoch, end) = _epochs.EndOffsetFor(request.LeaderEpoch, _logEnd);
        Sender.Tell(new OffsetForLeaderEpochResponse(_topic, _partition, ErrorCode.None, null, epoch, end));
    }

    // ---- idempotent producers (Kafka's DescribeProducers) ----

    /// <summary>The producers whose batches are in the log, as the next snapshot would keep them.</summary>
    private void DescribeProducers(DescribeProducersRequest request)
    {
        var states = _producers.ToSnapshot(_logEnd);
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
    /// Followers keep their own log start (they trim by retention): a new leader would serve from its own.
    /// </summary>
    private void DeleteRecords(DeleteRecordsRequest request)
    {
        var offset = request.Offset == -1 ? _highWatermark : request.Offset;
        if (offset < 0 || offset > _highWatermark)
        {
            Sender.Tell(new DeleteRecordsResponse(_topic, _partition, ErrorCode.OffsetOutOfRange,
                $"cannot delete records of {Name} below {request.Offset}: valid offsets are up to the high watermark {_highWatermark} (-1 for it)", _logStart));
            return;
        }
        if (offset <= _logStart)
        {
            Sender.Tell(new DeleteRecordsResponse(_topic, _partition, ErrorCode.None, null, _logStart));
            return;
        }
        var replyTo = Sender;
        Persist(new RecordsDeleted(offset), e =>
        {
            var deleteTo = DropBefore(e.Offset);
            _log.Info("partition {0}: records below {1} deleted on request; log start is now {2}", Name, e.Offset, _logStart);
            if (deleteTo > 0) _pendingDeleteToSeq = Math.Max(_pendingDeleteToSeq, deleteTo);
            TakeSnapshot();
            replyTo.Tell(new DeleteRecordsResponse(_topic, _partition, ErrorCode.None, null, _logStart));
        });
    }

    /// <summary>Drops the whole batches below <paramref name="offset"/> and starts the log there; the journal sequence number of the last dropped batch, or 0.</summary>
    private long DropBefore(long offset)
    {
        var drop = 0;
        while (drop < _index.Count && _index.NextOffsetAfter(drop) <= offset) drop++;
        var deleteTo = drop > 0 ? _index.SequenceNr(drop - 1) : 0;
        if (drop > 0) _index.RemoveFirst(drop);
        _logStart = Math.Min(Math.Max(_logStart, offset), _logEnd);
        _tail.TrimBelow(_index.Count > 0 ? _index.BaseOffset(0) : _logEnd);
        return deleteTo;
    }

    // ---- retention, snapshots ----

    private long NowUnixMs => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    private void ApplyRetention()
    {
        var now = NowUnixMs;
        var idle = _producers.ExpireOlderThan(now - (long)_settings.ProducerIdExpiration.TotalMilliseconds);
        if (idle > 0) _log.Info("partition {0}: forgot {1} idempotent producer(s) idle for longer than {2}", Name, idle, _settings.ProducerIdExpiration);
        var bytes = _index.TotalBytes;
        var drop = 0;
        // Only committed batches go: a batch above the high watermark may still be needed by a follower.
        while (drop < _index.Count && _index.NextOffsetAfter(drop) <= _highWatermark)
        {
            var expired = _config.RetentionMs >= 0 && _index.MaxTimestamp(drop) < now - _config.RetentionMs;
            var oversize = _config.RetentionBytes >= 0 && bytes > _config.RetentionBytes;
            if (!expired && !oversize) break;
            bytes -= _index.Size(drop);
            drop++;
        }
        if (drop == 0) return;

        var deleteTo = _index.SequenceNr(drop - 1);
        _logStart = drop == _index.Count ? _logEnd : _index.BaseOffset(drop);
        _index.RemoveFirst(drop);
        _tail.TrimBelow(_logStart);
        _log.Info("partition {0}: retention removed {1} batches; log start is now {2}", Name, drop, _logStart);
        // Snapshot the trimmed index first; the journal rows are deleted once it is saved, so a crash in
        // between never leaves an index pointing at deleted events.
        _pendingDeleteToSeq = Math.Max(_pendingDeleteToSeq, deleteTo);
        TakeSnapshot();
    }

    private void MaybeSnapshot()
    {
        if (_batchesSinceSnapshot >= _settings.SnapshotEveryBatches || _bytesSinceSnapshot >= _settings.SnapshotEveryBytes)
            TakeSnapshot();
    }

    private void TakeSnapshot()
    {
        _batchesSinceSnapshot = 0;
        _bytesSinceSnapshot = 0;
        SaveSnapshot(ToSnapshot());
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

    private PartitionSnapshot ToSnapshot()
    {
        var n = _index.Count;
        var baseOffsets = new long[n];
        var counts = new int[n];
        var seqs = new long[n];
        var timestamps = new long[n];
        var sizes = new int[n];
        for (var i = 0; i < n; i++)
        {
            baseOffsets[i] = _index.BaseOffset(i);
            counts[i] = _index.RecordCount(i);
            seqs[i] = _index.SequenceNr(i);
            timestamps[i] = _index.MaxTimestamp(i);
            sizes[i] = _index.Size(i);
        }
        var epochs = new int[_epochs.Count];
        var starts = new long[_epochs.Count];
        for (var i = 0; i < _epochs.Count; i++) (epochs[i], starts[i]) = _epochs[i];
        return new PartitionSnapshot(_topicId ?? "", _logStart, _logEnd, baseOffsets, counts, seqs, timestamps, sizes)
        {
            HighWatermark = _highWatermark,
            Epochs = epochs,
            EpochStartOffsets = starts,
            Producers = _producers.ToSnapshot(_logEnd),
        };
    }

    private void Restore(PartitionSnapshot snapshot)
    {
        StartIncarnation(snapshot.TopicId);
        var now = NowUnixMs;
        for (var i = 0; i < snapshot.BaseOffsets.Length; i++)
        {
            var timestamp = snapshot.MaxTimestamps[i];
            if (IndexTimestamp.IsSuspect(timestamp))
            {
                // Written before batches were validated: a client's header value. Hold the batch from time-based
                // retention (indexed now) until its records are read back after recovery.
                timestamp = now;
                _timestampsToVerify.Enqueue(snapshot.BaseOffsets[i]);
            }
            _index.Append(snapshot.BaseOffsets[i], snapshot.RecordCounts[i], snapshot.SequenceNrs[i], timestamp, snapshot.Sizes[i]);
        }
        for (var i = 0; i < snapshot.Epochs.Length; i++) _epochs.Assign(snapshot.Epochs[i], snapshot.EpochStartOffsets[i]);
        _producers.Restore(snapshot.Producers);
        _logStart = snapshot.LogStartOffset;
        _logEnd = _nextOffset = snapshot.LogEndOffset;
        _highWatermark = snapshot.HighWatermark;
    }

    /// <summary>
    /// Reads back, a few batches at a time, the batches a snapshot indexed with a client's unchecked max timestamp,
    /// and indexes them at their records' own max timestamp; a snapshot then keeps the corrected values.
    /// </summary>
    private void VerifyRestoredTimestamps()
    {
        while (_timestampsToVerify.TryPeek(out var baseOffset))
        {
            var i = _index.Find(baseOffset);
            if (i >= 0 && _index.BaseOffset(i) == baseOffset) break;
            _timestampsToVerify.Dequeue(); // gone meanwhile (retention by size, truncation)
        }
        if (_timestampsToVerify.Count == 0)
        {
            if (_timestampsVerified > 0)
            {
                _log.Info("partition {0}: indexed {1} batch(es) stored before validation at their records' own timestamps", Name, _timestampsVerified);
                _timestampsVerified = 0;
                TakeSnapshot();
            }
            return;
        }
        var first = _index.Find(_timestampsToVerify.Peek());
        ReadCold(first, _settings.ReplicaFetchMaxBytes, long.MaxValue, read =>
        {
            if (read.Failure is not null)
            {
                _log.Warning("partition {0}: reading back batches to check their timestamps failed ({1}); they stay held from time-based retention until the next start", Name, read.Failure);
                _timestampsToVerify.Clear();
                return;
            }
            foreach (var (_, batch) in read.Batches)
            {
                if (!RecordBatch.TryReadHeader(batch, out var header)) continue;
                var at = _index.Find(header.BaseOffset);
                if (at < 0 || _index.BaseOffset(at) != header.BaseOffset) continue;
                var fromRecords = RecordsScan.MaxTimestampOf(batch);
                if (fromRecords >= 0) _index.SetMaxTimestamp(at, fromRecords);
                _timestampsVerified++;
                if (_timestampsToVerify.TryPeek(out var next) && next == header.BaseOffset) _timestampsToVerify.Dequeue();
            }
            if (read.Batches.Count == 0) _timestampsToVerify.Dequeue(); // nothing came back for it: leave it held
            VerifyRestoredTimestamps();
        });
    }

    private void StartIncarnation(string topicId)
    {
        _topicId = topicId.Length == 0 ? null : topicId;
        _index.Clear();
        _tail.Clear();
        _epochs.Clear();
        _producers.Clear();
        _logStart = _logEnd = _nextOffset = _highWatermark = 0;
    }

    private void Purge()
    {
        _log.Info("partition {0}: deleting the log of a previous incarnation of the topic", Name);
        DeleteMessages(LastSequenceNr);
        DeleteSnapshots(new SnapshotSelectionCriteria(long.MaxValue));
        StartIncarnation("");
    }
}
