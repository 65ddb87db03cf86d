using Akka.Actor;
using Akka.Event;
using Broker.Protocol.Messages;

namespace Broker.Server.Partitions;

// Following: fetch from the leader through the shard region, persist what FollowerState says, truncate what it does not have.
public sealed partial class PartitionActor
{
    private const string FetchTimer = "replica-fetch";

    private void Following()
    {
        Timers.Cancel(IsrTick.Instance);
        Timers.StartPeriodicTimer(RetentionTick.Instance, RetentionTick.Instance, _settings.RetentionCheckInterval);
        Become(() =>
        {
            Command<ReplicaFetchResult>(OnFetched);
            Command<ReplicaFetchTimedOut>(t =>
            {
                if (_follower.IsCurrent(t.FetchId)) SendFetch();
            });
            Command<RetryTick>(t => t.What == "fetch", _ => SendFetch());
            Command<RetryTick>(t => t.What == "elect" && _entity is not null, _ => Elect(new LeadPartition(_entity!)));
            Command<LeaderElected>(l => l.LeaderEpoch > _log.Epochs.LatestEpoch, _ => SendFetch()); // the answer to the old fetch no longer counts
            Command<LeadPartition>(Elect);
            Command<FetchRequest>(f => FollowerFetch(f, Sender));
            Command<ResignLeadership>(r => ForgetEntity(r.Entity)); // an election retry pending for it stops
            Command<Terminated>(t => ForgetEntity(t.ActorRef));
            Command<ElectionWritten>(_ => { });
            Command<IsrWritten>(_ => { });
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
        if (_log.TopicId is null) return;
        if (_log.AppendsInFlight)
        {
            WhenAppendsLanded(SendFetch); // this replica's own last appends as leader come first
            return;
        }
        var fetch = _follower.NextFetch(_topic, _partition, _nodeId, _log, _settings.ReplicaFetchMaxBytes, (int)_settings.ReplicaFetchWait.TotalMilliseconds);
        _region.Tell(fetch, Self);
        Timers.StartSingleTimer(FetchTimer, new ReplicaFetchTimedOut(fetch.FetchId), _settings.ReplicaFetchWait + _settings.ReplicaFetchTimeout);
    }

    private void OnFetched(ReplicaFetchResult result)
    {
        var step = _follower.OnFetched(result, _log);
        if (step is FollowerState.Step.Ignore) return;
        Timers.Cancel(FetchTimer);
        switch (step)
        {
            case FollowerState.Step.RetryLater retry:
                if (retry.FromStaleLeader) _logger.Warning("partition {0}: {1}", Name, retry.Reason);
                else _logger.Debug("partition {0}: {1}; retrying", Name, retry.Reason);
                Timers.StartSingleTimer(FetchTimer, new RetryTick("fetch"), _settings.ReplicaFetchBackoff);
                return;
            case FollowerState.Step.Truncate truncate:
                _logger.Warning("partition {0}: log diverged from leader {1} (epoch {2}); truncating {3}..{4}", Name, result.Leader, result.LeaderEpoch, truncate.Offset, _log.LogEnd);
                Persist(new LogTruncated(truncate.Offset), e =>
                {
                    _log.TruncateTo(e.Offset);
                    _log.SettleNextOffset();
                    SendFetch();
                });
                return;
            case FollowerState.Step.StartAt start:
                // The leader no longer has the offsets this replica needs next (retention removed them): start where it starts.
                _logger.Warning("partition {0}: leader {1} starts its log at {2}, past this replica's end {3}; continuing from {2}", Name, result.Leader, start.Offset, _log.LogEnd);
                Persist(new LogStartAdvanced(start.Offset), e =>
                {
                    _log.StartLogAt(e.Offset);
                    // The journal rows before it are dead: snapshot first, then delete them (as retention does).
                    _pendingDeleteToSeq = Math.Max(_pendingDeleteToSeq, LastSequenceNr);
                    TakeSnapshot();
                    SendFetch();
                });
                return;
            case FollowerState.Step.Append { Batches.Count: 0 } nothing:
                FollowHighWatermark(nothing.LeaderHighWatermark);
                FollowLogStart(nothing.LeaderLogStart, SendFetch);
                return;
            case FollowerState.Step.Append append:
                var remaining = append.Batches.Count;
                var events = new List<BatchAppended>(remaining);
                foreach (var batch in append.Batches) events.Add(new BatchAppended(batch));
                PersistAll(events, e =>
                {
                    _log.Appended(e.Batch, LastSequenceNr);
                    _log.SettleNextOffset();
                    if (--remaining > 0) return;
                    FollowHighWatermark(append.LeaderHighWatermark);
                    MaybeSnapshot();
                    FollowLogStart(append.LeaderLogStart, SendFetch);
                });
                return;
            default:
                SendFetch();
                return;
        }
    }

    /// <summary>Moves the log start up to the leader's (<see cref="FollowerState.FollowedLogStart"/>), journaled as DeleteRecords is, then <paramref name="then"/>.</summary>
    private void FollowLogStart(long leaderLogStart, Action then)
    {
        if (FollowerState.FollowedLogStart(leaderLogStart, _log) is not { } start)
        {
            then();
            return;
        }
        Persist(new RecordsDeleted(start), e =>
        {
            var deleteTo = _log.DropBefore(e.Offset);
            _logger.Info("partition {0}: log start follows the leader's to {1}", Name, _log.LogStart);
            // Snapshot the trimmed index first; the journal rows go once it is saved (as retention and DeleteRecords do).
            if (deleteTo > 0) _pendingDeleteToSeq = Math.Max(_pendingDeleteToSeq, deleteTo);
            TakeSnapshot();
            then();
        });
    }

    private void FollowHighWatermark(long leaderHighWatermark)
    {
        if (_log.FollowHighWatermark(leaderHighWatermark)) ServeWaitingFetches(); // consumers reading from this follower (KIP-392)
    }
}
