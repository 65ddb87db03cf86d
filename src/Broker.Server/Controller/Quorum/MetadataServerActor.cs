using Akka.Actor;

namespace Broker.Server.Controller.Quorum;

/// <summary>
/// On every voter: serves the nodes that are not voters (<see cref="MetadataObserver"/>). A fetch gets the records the
/// observer misses from <see cref="MetadataFeed"/> (after a Raft read barrier when asked, so the answer is a
/// linearizable read), or waits up to its long-poll time for the next change; a proposal is committed through the
/// controller as this voter's own are. It also tells another voter whether this node counts it as a member (Membership/IslandCheck.cs),
/// and a voter that is catching up what this voter's log holds (<see cref="NewVoterRule"/>).
/// </summary>
public sealed class MetadataServerActor : ReceiveActor, IWithTimers
{
    public const string Name = "metadata-server";

    private readonly MetadataQuorum _quorum;
    private readonly TimeSpan _timeout;
    private readonly List<Parked> _parked = [];
    private MetadataFeed _feed = null!;
    private IDisposable? _subscription;

    public MetadataServerActor(MetadataQuorum quorum, TimeSpan timeout)
    {
        _quorum = quorum;
        _timeout = timeout;
        Receive<MetadataChange>(change =>
        {
            _feed.Applied(change);
            AnswerParked(expiredOnly: false);
        });
        Receive<MetadataFetch>(fetch =>
        {
            if (!fetch.Barrier)
            {
                AnswerOrPark(Sender, fetch);
                return;
            }
            var replyTo = Sender;
            // Changes applied before the barrier passes are Told to this actor before BarrierPassed (the applier tells
            // synchronously, before the barrier completes): the answer includes them.
            ReadBarrierAsync().PipeTo(Self, success: reason => new BarrierPassed(replyTo, fetch, reason));
        });
        Receive<BarrierPassed>(passed =>
        {
            if (passed.Failure is { } reason) passed.ReplyTo.Tell(new MetadataUnavailable(reason));
            else passed.ReplyTo.Tell(_feed.Answer(passed.Fetch.AfterIndex, ControllerId));
        });
        Receive<MetadataPropose>(propose => ProposeAsync(propose.Record).PipeTo(Sender));
        // A controller that is not an Up member itself (restarting, or still joining) has no cluster to judge by.
        Receive<MembershipCheck>(check => Sender.Tell(new MembershipChecked(
            _quorum.IsController && Akka.Cluster.Cluster.Get(Context.System).SelfMember.Status == Akka.Cluster.MemberStatus.Up, IsMember(check))));
        Receive<VoterLogAsk>(_ => Sender.Tell(new VoterLogState(_quorum.NodeId, _quorum.LastLogIndex, _quorum.IsCatchingUp)));
        Receive<ExpireTick>(_ => AnswerParked(expiredOnly: true));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The controller as this voter knows it, for observers; -1 while there is none.</summary>
    private int ControllerId => _quorum.ControllerId ?? -1;

    public static Props Props(MetadataQuorum quorum, TimeSpan timeout) => Akka.Actor.Props.Create(() => new MetadataServerActor(quorum, timeout));

    protected override void PreStart()
    {
        var self = Self;
        _subscription = _quorum.Subscribe(change => self.Tell(change));
        // Subscribed first: whatever is applied from here on arrives as a change; the feed skips what the image already holds.
        _feed = new MetadataFeed(_quorum.Image);
        Timers.StartPeriodicTimer("expire", ExpireTick.Instance, TimeSpan.FromMilliseconds(100));
    }

    protected override void PostStop() => _subscription?.Dispose();

    private void AnswerOrPark(IActorRef replyTo, MetadataFetch fetch)
    {
        if (fetch.WaitMs > 0 && _feed.IsCaughtUp(fetch.AfterIndex))
        {
            _parked.Add(new Parked(replyTo, fetch, DateTime.UtcNow.AddMilliseconds(fetch.WaitMs)));
            return;
        }
        replyTo.Tell(_feed.Answer(fetch.AfterIndex, ControllerId));
    }

    private void AnswerParked(bool expiredOnly)
    {
        if (_parked.Count == 0) return;
        var now = DateTime.UtcNow;
        for (var i = _parked.Count - 1; i >= 0; i--)
        {
            var parked = _parked[i];
            if (expiredOnly ? parked.Deadline > now : _feed.IsCaughtUp(parked.Fetch.AfterIndex) && parked.Deadline > now) continue;
            _parked.RemoveAt(i);
            parked.ReplyTo.Tell(_feed.Answer(parked.Fetch.AfterIndex, ControllerId));
        }
    }

    /// <summary>Whether the asking incarnation is a member of this node's cluster that nobody has downed or removed.</summary>
    private static bool IsMember(MembershipCheck check)
    {
        foreach (var member in Akka.Cluster.Cluster.Get(Context.System).State.Members)
        {
            if (member.UniqueAddress.Uid == check.Uid && member.Address.ToString() == check.Address)
                return member.Status is Akka.Cluster.MemberStatus.Joining or Akka.Cluster.MemberStatus.WeaklyUp or Akka.Cluster.MemberStatus.Up or Akka.Cluster.MemberStatus.Leaving;
        }
        return false;
    }

    private async Task<string?> ReadBarrierAsync()
    {
        using var cts = new CancellationTokenSource(_timeout);
        try
        {
            await _quorum.ReadAsync(cts.Token).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException)
        {
            return $"voter {_quorum.NodeId} could not pass a read barrier within {_timeout.TotalSeconds:0.#}s (no majority of voters?)";
        }
    }

    private async Task<MetadataProposed> ProposeAsync(byte[] record)
    {
        using var cts = new CancellationTokenSource(_timeout);
        MetadataResult result;
        try
        {
            result = await _quorum.ProposeAsync(MetadataCodec.DecodeRecord(record), cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            result = new Refused(MetadataError.OutcomeUnknown, $"voter {_quorum.NodeId} could not commit the record within {_timeout.TotalSeconds:0.#}s (no majority of voters?); read the metadata and retry if it did not apply");
        }
        return new MetadataProposed(MetadataCodec.Encode(result));
    }

    private sealed record Parked(IActorRef ReplyTo, MetadataFetch Fetch, DateTime Deadline);

    private sealed record BarrierPassed(IActorRef ReplyTo, MetadataFetch Fetch, string? Failure);

    private sealed class ExpireTick
    {
        public static readonly ExpireTick Instance = new();
    }
}
