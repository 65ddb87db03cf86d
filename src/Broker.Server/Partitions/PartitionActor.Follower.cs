using Akka.Actor;
using Akka.Event;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;

namespace Broker.Server.Partitions;

// Following: fetch from the leader through the shard region, persist what it sends, truncate what it does not have.
public sealed partial class PartitionActor
{
    private const string FetchTimer = "replica-fetch";
    private long _fetchId;
    private int _knownLeaderEpoch = -1;

    private void Following()
    {
        _isLeader = false;
        Timers.Cancel(IsrTick.Instance);
        Timers.StartPeriodicTimer(RetentionTick.Instance, RetentionTick.Instance, _settings.RetentionCheckInterval);
        Become(() =>
        {
            Command<ReplicaFetchResult>(OnFetched);
            Command<ReplicaFetchTimedOut>(t =>
            {
                if (t.FetchId == _fetchId) SendFetch();
            });
            Command<RetryTick>(t => t.What == "fetch", _ => SendFetch());
            Command<RetryTick>(t => t.What == "elect" && _entity is not null, _ => Elect(new LeadPartition(_entity!)));
            Command<LeaderElected>(l => l.LeaderEpoch > _epochs.LatestEpoch, _ => SendFetch()); // the answer to the old fetch no longer counts
            Command<LeadPartition>(Elect);
            Command<FetchRequest>(f => FollowerFetch(f, Sender));
            Command<ResignLeadership>(r => ForgetEntity(r.Entity)); // an election retry pending for it stops
            Command<Terminated>(t => ForgetEntity(t.ActorRef));
            Command<StateWritten>(_ => { });
            Command<IsrTick>(_ => { });
            HandleCommon();
            CommandAny(m => RefuseNotLeader(m, "it follows"));
        });
        SendFetch();
    }

    private void ForgetEntity(IActorRef entity)
    {
        if (_entity is null || !entity.Equals(_entity)) return;
        Context.Unwatch(_entity);
        _entity = null;
        Timers.Cancel("elect");
    }

    private void SendFetch()
    {
        if (_topicId is null) return;
        if (_nextOffset > _logEnd)
        {
            WhenAppendsLanded(SendFetch); // this replica's own last appends as leader come first
            return;
        }
        _fetchId++;
        _region.Tell(new ReplicaFetch(_topic, _partition, _topicId, _nodeId, _fetchId, _logEnd, _epochs.LatestEpoch,
            _settings.ReplicaFetchMaxBytes, (int)_settings.ReplicaFetchWait.TotalMilliseconds), Self);
        Timers.StartSingleTimer(FetchTimer, new ReplicaFetchTimedOut(_fetchId), _settings.ReplicaFetchWait + _settings.ReplicaFetchTimeout);
    }

    private void RetryFetchLater() => Timers.StartSingleTimer(FetchTimer, new RetryTick("fetch"), _settings.ReplicaFetchBackoff);

    private void OnFetched(ReplicaFetchResult result)
    {
        if (result.FetchId != _fetchId) return; // an answer to a fetch we gave up on
        Timers.Cancel(FetchTimer);
        if (result.Error != ErrorCode.None)
        {
            _log.Debug("partition {0}: follower fetch refused ({1}: {2}); retrying", Name, result.Error, result.ErrorMessage);
            RetryFetchLater();
            return;
        }
        if (result.LeaderEpoch < _knownLeaderEpoch)
        {
            _log.Warning("partition {0}: ignoring a fetch answer from a stale leader (epoch {1} < {2})", Name, result.LeaderEpoch, _knownLeaderEpoch);
            RetryFetchLater();
            return;
        }
        _knownLeaderEpoch = result.LeaderEpoch;

        if (result.DivergingEpoch >= 0)
        {
            // Our log and the leader's agree up to where that epoch ends on both sides.
            var (_, localEnd) = _epochs.EndOffsetFor(result.DivergingEpoch, _logEnd);
            var cut = Math.Min(result.DivergingEndOffset, localEnd < 0 ? _logStart : localEnd);
            if (cut < _logEnd)
            {
                _log.Warning("partition {0}: log diverged from leader {1} (epoch {2}); truncating {3}..{4}", Name, result.Leader, result.LeaderEpoch, cut, _logEnd);
                Persist(new LogTruncated(cut), e =>
                {
                    TruncateTo(e.Offset);
                    _nextOffset = _logEnd;
                    SendFetch();
                });
                return;
            }
            SendFetch();
            return;
        }

        if (result.LogStartOffset > _logEnd)
        {
            // The leader no longer has the offsets this replica needs next (retention removed them): start where it starts.
            _log.Warning("partition {0}: leader {1} starts its log at {2}, past this replica's end {3}; continuing from {2}", Name, result.Leader, result.LogStartOffset, _logEnd);
            Persist(new LogStartAdvanced(result.LogStartOffset), e =>
            {
                StartLogAt(e.Offset);
                // The journal rows before it are dead: snapshot first, then delete them (as retention does).
                _pendingDeleteToSeq = Math.Max(_pendingDeleteToSeq, LastSequenceNr);
                TakeSnapshot();
                SendFetch();
            });
            return;
        }

        var events = new List<BatchAppended>();
        var position = 0;
        var expected = _logEnd;
        while (RecordBatch.TryReadNext(result.Records, ref position, out var batch, out var header))
        {
            if (header.BaseOffset != expected) break; // not contiguous with our log: fetch again from our end
            var bytes = GC.AllocateUninitializedArray<byte>(batch.Length, pinned: true);
            batch.Span.CopyTo(bytes);
            events.Add(new BatchAppended(bytes));
            expected = header.BaseOffset + header.RecordCount;
        }
        if (events.Count == 0)
        {
            FollowHighWatermark(result.HighWatermark);
            SendFetch();
            return;
        }
        var remaining = events.Count;
        PersistAll(events, e =>
        {
            Appended(e.Batch, LastSequenceNr);
            _nextOffset = _logEnd;
            if (--remaining > 0) return;
            FollowHighWatermark(result.HighWatermark);
            MaybeSnapshot();
            SendFetch();
        });
    }

    private void FollowHighWatermark(long leaderHighWatermark)
    {
        var hw = Math.Min(leaderHighWatermark, _logEnd);
        if (hw <= _highWatermark) return;
        _highWatermark = hw;
        ServeWaitingFetches(); // consumers reading from this follower (KIP-392)
    }
}
