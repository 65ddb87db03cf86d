using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Akka.Persistence;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Server.Topics;

namespace Broker.Server.Partitions;

/// <summary>
/// One partition's log: a sharded persistent actor whose journal is the log (one event per record
/// batch). It assigns offsets, keeps an offset index (snapshotted, so recovery replays only the events
/// after the last snapshot) and a bounded tail cache, serves fetches from the cache or by reading the
/// journal back, holds long-poll fetches, and applies retention by deleting whole batches from the front.
///
/// States: Recovering (Akka.Persistence replay) -> WaitingForTopic (asks the topic registry for its
/// topic; stashes requests) -> Active. From WaitingForTopic or Active it moves to Deleted when its topic
/// no longer exists: it purges its journal and snapshots, answers UnknownTopic and passivates.
/// </summary>
public sealed class PartitionActor : ReceivePersistentActor, IWithTimers
{
    private readonly string _topic;
    private readonly int _partition;
    private readonly BrokerSettings _settings;
    private readonly IActorRef _registry;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly OffsetIndex _index = new();
    private readonly TailCache _tail;
    private readonly Dictionary<long, (FetchRequest Request, IActorRef ReplyTo)> _waitingFetches = new();
    private readonly Dictionary<long, Action<ColdBatchesRead>> _coldReads = new();
    private readonly string _address;

    private string? _topicId;
    private TopicConfig _config;
    private long _logStart;
    private long _logEnd;       // next offset after the last persisted batch: the high watermark
    private long _nextOffset;   // next offset to assign, ahead of _logEnd while appends are in flight
    private int _batchesSinceSnapshot;
    private long _bytesSinceSnapshot;
    private long _pendingDeleteToSeq;
    private long _requestIds;

    public PartitionActor(string topic, int partition, BrokerSettings settings, IActorRef registry)
    {
        _topic = topic;
        _partition = partition;
        _settings = settings;
        _registry = registry;
        _tail = new TailCache(settings.TailCacheBytes);
        _config = new TopicConfig(settings.DefaultRetentionMs, settings.DefaultRetentionBytes, settings.DefaultMaxMessageBytes);
        _address = Cluster.Get(Context.System).SelfAddress.ToString();
        PersistenceId = $"partition/{topic}/{partition}";

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is PartitionSnapshot snapshot) Restore(snapshot);
        });
        Recover<PartitionCreated>(e => StartIncarnation(e.TopicId));
        Recover<BatchAppended>(e =>
        {
            RecordBatch.TryReadHeader(e.Batch, out var header);
            Appended(e.Batch, header.BaseOffset, header.RecordCount, header.MaxTimestamp, LastSequenceNr);
        });
        Recover<RecoveryCompleted>(_ =>
        {
            _log.Info("partition {0}/{1} recovered: offsets {2}..{3}, {4} batches indexed, {5} bytes cached",
                _topic, _partition, _logStart, _logEnd, _index.Count, _tail.Bytes);
            DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(TopicRegistryTopics.Changes, Self));
            WaitingForTopic();
        });
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string entityId, BrokerSettings settings, IActorRef registry)
    {
        var (topic, partition) = PartitionEntity.Parse(entityId);
        return Akka.Actor.Props.Create(() => new PartitionActor(topic, partition, settings, registry));
    }

    // ---- states ----

    private void WaitingForTopic()
    {
        LookUpTopic();
        Become(() =>
        {
            Command<TopicsSnapshot>(OnTopicKnown);
            Command<RetryTopicLookup>(_ => LookUpTopic());
            Command<Status.Failure>(f =>
            {
                _log.Warning("partition {0}/{1}: topic registry did not answer ({2}); retrying", _topic, _partition, f.Cause.Message);
                Timers.StartSingleTimer(RetryTopicLookup.Instance, RetryTopicLookup.Instance, TimeSpan.FromSeconds(1));
            });
            Command<SubscribeAck>(_ => { });
            CommandAny(_ => Stash.Stash());
        });
    }

    private void LookUpTopic() => _registry.Ask<TopicsSnapshot>(GetAllTopics.Instance, _settings.RegistryTimeout).PipeTo(Self);

    private void OnTopicKnown(TopicsSnapshot topics)
    {
        var descriptor = topics.Find(_topic);
        if (descriptor is null || _partition >= descriptor.Partitions)
        {
            Deleted();
            return;
        }

        _config = descriptor.Config(_settings);
        if (_topicId == descriptor.TopicId)
        {
            Active();
            return;
        }

        if (_topicId is not null || LastSequenceNr > 0) Purge();
        Persist(new PartitionCreated(descriptor.TopicId), e =>
        {
            StartIncarnation(e.TopicId);
            Active();
        });
    }

    private void Active()
    {
        Timers.StartPeriodicTimer(RetentionTick.Instance, RetentionTick.Instance, _settings.RetentionCheckInterval);
        Become(() =>
        {
            Command<AppendBatch>(Append);
            Command<FetchRequest>(f => Fetch(f, Sender));
            Command<ListOffsetsRequest>(ListOffsets);
            Command<GetPartitionInfo>(_ => Sender.Tell(new PartitionInfo(_topic, _partition, _logStart, _logEnd, _address)));
            Command<TopicsSnapshot>(OnTopicsChanged);
            Command<ColdBatchesRead>(OnColdBatchesRead);
            Command<FetchWaitExpired>(OnFetchWaitExpired);
            Command<RetentionTick>(_ => ApplyRetention());
            HandleHousekeeping();
        });
        Stash.UnstashAll();
    }

    private void Deleted()
    {
        _log.Info("partition {0}/{1}: topic no longer exists; purging its log and stopping", _topic, _partition);
        foreach (var (request, replyTo) in _waitingFetches.Values)
            replyTo.Tell(FetchError(request, ErrorCode.UnknownTopic, UnknownTopicMessage()));
        _waitingFetches.Clear();
        if (_topicId is not null || LastSequenceNr > 0) Purge();
        _topicId = null;
        Timers.CancelAll();
        Become(() =>
        {
            Command<AppendBatch>(a => Sender.Tell(new AppendResult(_topic, _partition, ErrorCode.UnknownTopic, UnknownTopicMessage(), -1)));
            Command<FetchRequest>(f => Sender.Tell(FetchError(f, ErrorCode.UnknownTopic, UnknownTopicMessage())));
            Command<ListOffsetsRequest>(l => Sender.Tell(new ListOffsetsResponse(_topic, _partition, ErrorCode.UnknownTopic, UnknownTopicMessage(), -1, -1)));
            Command<GetPartitionInfo>(_ => Sender.Tell(new PartitionInfo(_topic, _partition, 0, 0, _address)));
            Command<TopicsSnapshot>(_ => { });
            HandleHousekeeping();
        });
        Stash.UnstashAll();
        Context.Parent.Tell(new Passivate(PoisonPill.Instance));
    }

    private void HandleHousekeeping()
    {
        Command<SaveSnapshotSuccess>(OnSnapshotSaved);
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "partition {0}/{1}: snapshot failed; recovery will replay more", _topic, _partition));
        Command<DeleteMessagesSuccess>(d => _log.Debug("partition {0}/{1}: deleted journal up to {2}", _topic, _partition, d.ToSequenceNr));
        Command<DeleteMessagesFailure>(f => _log.Warning(f.Cause, "partition {0}/{1}: deleting old batches failed; retried at the next retention check", _topic, _partition));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "partition {0}/{1}: deleting old snapshots failed", _topic, _partition));
        Command<SubscribeAck>(_ => { });
    }

    // ---- appends ----

    private void Append(AppendBatch command)
    {
        var validation = RecordBatch.Validate(command.Batch.Span, out var header);
        if (validation != BatchValidation.Valid)
        {
            var error = validation == BatchValidation.UnsupportedMagic ? ErrorCode.InvalidRequest : ErrorCode.CorruptRecord;
            Reply(command, error, $"rejected batch for {_topic}/{_partition}: {Describe(validation)}");
            return;
        }
        if (command.Batch.Length > _config.MaxMessageBytes)
        {
            Reply(command, ErrorCode.RecordTooLarge,
                $"batch of {command.Batch.Length} bytes exceeds max.message.bytes={_config.MaxMessageBytes} of topic '{_topic}'; send smaller batches or raise the topic's max.message.bytes");
            return;
        }
        if (header.CompressionType != 0)
        {
            Reply(command, ErrorCode.UnsupportedCompression, "compressed batches are not supported yet; send uncompressed batches (compression type none)");
            return;
        }

        // The copy the journal writes and the tail cache keeps for seconds. Allocated on the pinned object
        // heap, which the GC never compacts: in gen0 it would be copied twice (into gen1, then gen2) before
        // it died, and under load those gen1 collections cost the node ~15% of its time in pauses.
        var bytes = GC.AllocateUninitializedArray<byte>(command.Batch.Length, pinned: true);
        command.Batch.Span.CopyTo(bytes);
        var baseOffset = _nextOffset;
        RecordBatch.SetBaseOffset(bytes, baseOffset);
        _nextOffset += header.RecordCount;
        var replyTo = Sender;
        PersistAsync(new BatchAppended(bytes), e =>
        {
            Appended(e.Batch, baseOffset, header.RecordCount, header.MaxTimestamp, LastSequenceNr);
            if (!replyTo.IsNobody()) replyTo.Tell(new AppendResult(_topic, _partition, ErrorCode.None, null, baseOffset));
            ServeWaitingFetches();
            MaybeSnapshot();
        });
    }

    private void Reply(AppendBatch command, ErrorCode error, string message)
    {
        _log.Warning("partition {0}/{1}: {2}", _topic, _partition, message);
        if (!Sender.IsNobody()) Sender.Tell(new AppendResult(command.Topic, command.Partition, error, message, -1));
    }

    private static string Describe(BatchValidation v) => v switch
    {
        BatchValidation.TooShort => "shorter than a RecordBatch header",
        BatchValidation.LengthMismatch => "batch length field does not match the bytes sent",
        BatchValidation.UnsupportedMagic => "only RecordBatch v2 (magic 2) is supported",
        BatchValidation.CorruptCrc => "CRC-32C does not match the batch contents (corrupted in transit?)",
        BatchValidation.InvalidRecordCount => "record count does not match the last offset delta",
        _ => v.ToString(),
    };

    /// <summary>Applies a persisted batch to the in-memory state: live appends and recovery both come here.</summary>
    private void Appended(byte[] batch, long baseOffset, int recordCount, long maxTimestamp, long sequenceNr)
    {
        _index.Append(baseOffset, recordCount, sequenceNr, maxTimestamp, batch.Length);
        _tail.Add(baseOffset, batch);
        _logEnd = baseOffset + recordCount;
        if (_nextOffset < _logEnd) _nextOffset = _logEnd;
        _batchesSinceSnapshot++;
        _bytesSinceSnapshot += batch.Length;
    }

    // ---- fetches ----

    private void Fetch(FetchRequest request, IActorRef replyTo)
    {
        if (request.Offset < _logStart || request.Offset > _logEnd)
        {
            replyTo.Tell(FetchError(request, ErrorCode.OffsetOutOfRange,
                $"offset {request.Offset} is out of range for {_topic}/{_partition}: valid offsets are {_logStart} (log start) to {_logEnd} (log end); seek to one of them"));
            return;
        }
        if (request.Offset == _logEnd)
        {
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

        var first = _index.Find(request.Offset);
        var maxBytes = request.MaxBytes <= 0 ? _settings.MaxRequestBytes : Math.Min(request.MaxBytes, _settings.MaxRequestBytes);
        var batchBase = _index.BaseOffset(first);
        if (batchBase >= _tail.FirstOffset)
        {
            replyTo.Tell(Fetched(_tail.Read(batchBase, maxBytes)));
            return;
        }

        ReadCold(first, maxBytes, read => replyTo.Tell(read.Failure is null
            ? Fetched(Concat(read.Batches))
            : FetchError(request, ErrorCode.Unknown, read.Failure)));
    }

    private void ServeWaitingFetches()
    {
        if (_waitingFetches.Count == 0) return;
        foreach (var (id, (request, replyTo)) in _waitingFetches)
        {
            Timers.Cancel(id);
            Fetch(request with { MaxWaitMs = 0 }, replyTo);
        }
        _waitingFetches.Clear();
    }

    private void OnFetchWaitExpired(FetchWaitExpired expired)
    {
        if (_waitingFetches.Remove(expired.RequestId, out var waiting))
            waiting.ReplyTo.Tell(Fetched(ReadOnlyMemory<byte>.Empty));
    }

    private FetchResponse Fetched(ReadOnlyMemory<byte> records) =>
        new(_topic, _partition, ErrorCode.None, null, _logEnd, _logStart, records);

    private FetchResponse FetchError(FetchRequest request, ErrorCode error, string message) =>
        new(request.Topic, request.Partition, error, message, _logEnd, _logStart, ReadOnlyMemory<byte>.Empty);

    /// <summary>Reads batches from index position <paramref name="first"/> back from the journal, up to maxBytes (at least one batch).</summary>
    private void ReadCold(int first, int maxBytes, Action<ColdBatchesRead> then)
    {
        var last = first;
        long total = _index.Size(first);
        while (last + 1 < _index.Count && total + _index.Size(last + 1) <= maxBytes) total += _index.Size(++last);
        var id = ++_requestIds;
        _coldReads[id] = then;
        var journal = Persistence.Instance.Apply(Context.System).JournalFor(null);
        Context.ActorOf(ColdReaderActor.Props(journal, PersistenceId, _index.SequenceNr(first), _index.SequenceNr(last), id, _settings.RequestTimeout));
    }

    private void OnColdBatchesRead(ColdBatchesRead read)
    {
        if (_coldReads.Remove(read.RequestId, out var then)) then(read);
    }

    private static byte[] Concat(List<byte[]> batches)
    {
        var total = 0;
        foreach (var b in batches) total += b.Length;
        var buffer = GC.AllocateUninitializedArray<byte>(total); // every byte is copied over below
        var position = 0;
        foreach (var b in batches)
        {
            b.CopyTo(buffer, position);
            position += b.Length;
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
                replyTo.Tell(Offset(_logEnd, -1));
                return;
            case < 0:
                replyTo.Tell(new ListOffsetsResponse(_topic, _partition, ErrorCode.InvalidRequest,
                    $"timestamp {request.Timestamp} is invalid: use -2 (earliest), -1 (latest) or a Unix time in milliseconds", -1, -1));
                return;
        }

        // First batch whose max timestamp reaches the target; the record is inside it.
        var i = 0;
        while (i < _index.Count && _index.MaxTimestamp(i) < request.Timestamp) i++;
        if (i == _index.Count)
        {
            replyTo.Tell(Offset(-1, -1));
            return;
        }
        var batchBase = _index.BaseOffset(i);
        var cached = batchBase >= _tail.FirstOffset ? _tail.Read(batchBase, 1) : null;
        if (cached is not null)
        {
            replyTo.Tell(FirstRecordAtOrAfter(cached, request.Timestamp));
            return;
        }
        ReadCold(i, 1, read => replyTo.Tell(read.Failure is null && read.Batches.Count > 0
            ? FirstRecordAtOrAfter(read.Batches[0], request.Timestamp)
            : new ListOffsetsResponse(_topic, _partition, ErrorCode.Unknown, read.Failure ?? "batch vanished", -1, -1)));
    }

    private ListOffsetsResponse FirstRecordAtOrAfter(byte[] batch, long timestamp)
    {
        var reader = new RecordBatchReader(batch);
        while (reader.TryReadNext(out var record))
        {
            if (record.Timestamp >= timestamp) return Offset(record.Offset, record.Timestamp);
        }
        return Offset(-1, -1);
    }

    private ListOffsetsResponse Offset(long offset, long timestamp) =>
        new(_topic, _partition, ErrorCode.None, null, offset, timestamp);

    // ---- topic changes, retention, snapshots ----

    private void OnTopicsChanged(TopicsSnapshot topics)
    {
        var descriptor = topics.Find(_topic);
        if (descriptor is null || descriptor.TopicId != _topicId || _partition >= descriptor.Partitions)
        {
            Deleted();
            return;
        }
        _config = descriptor.Config(_settings);
    }

    private void ApplyRetention()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var bytes = _index.TotalBytes;
        var drop = 0;
        while (drop < _index.Count)
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
        _log.Info("partition {0}/{1}: retention removed {2} batches; log start is now {3}", _topic, _partition, drop, _logStart);
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
        return new PartitionSnapshot(_topicId ?? "", _logStart, _logEnd, baseOffsets, counts, seqs, timestamps, sizes);
    }

    private void Restore(PartitionSnapshot snapshot)
    {
        StartIncarnation(snapshot.TopicId);
        for (var i = 0; i < snapshot.BaseOffsets.Length; i++)
            _index.Append(snapshot.BaseOffsets[i], snapshot.RecordCounts[i], snapshot.SequenceNrs[i], snapshot.MaxTimestamps[i], snapshot.Sizes[i]);
        _logStart = snapshot.LogStartOffset;
        _logEnd = _nextOffset = snapshot.LogEndOffset;
    }

    private void StartIncarnation(string topicId)
    {
        _topicId = topicId.Length == 0 ? null : topicId;
        _index.Clear();
        _tail.Clear();
        _logStart = _logEnd = _nextOffset = 0;
    }

    private void Purge()
    {
        _log.Info("partition {0}/{1}: deleting the log of a previous incarnation of the topic", _topic, _partition);
        DeleteMessages(LastSequenceNr);
        DeleteSnapshots(new SnapshotSelectionCriteria(long.MaxValue));
        StartIncarnation("");
    }

    private string UnknownTopicMessage() =>
        $"topic '{_topic}' (partition {_partition}) does not exist; create it with `broker topics create {_topic}`";

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // Offsets were already assigned to the rejected batch: stop, so the next message restarts the
        // entity from the journal with contiguous offsets. Callers of in-flight appends time out.
        _log.Error(cause, "partition {0}/{1}: journal rejected batch {2}; restarting from the journal", _topic, _partition, sequenceNr);
        Context.Stop(Self);
    }
}
