using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Broker.Server.Controller.Quorum;

namespace Broker.Server.Membership;

/// <summary>
/// Hosts <see cref="UnreachableBound"/> on a voter of the metadata quorum: feeds it this node's reachability events,
/// asks it once a second, and downs the members it names after a Raft read barrier has confirmed that this node still
/// leads the quorum (a controller that was paused and has not yet heard of its successor must not act on its stale view).
/// </summary>
public sealed class UnreachableBoundActor : ReceiveActor, IWithTimers
{
    public const string Name = "unreachable-bound";

    private static readonly TimeSpan ConfirmTimeout = TimeSpan.FromSeconds(2);

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly UnreachableBound _bound;
    private readonly MetadataQuorum _quorum;
    private bool _confirming;

    public UnreachableBoundActor(UnreachableBound bound, MetadataQuorum quorum)
    {
        _bound = bound;
        _quorum = quorum;
        Receive<ClusterEvent.UnreachableMember>(e => _bound.MarkedUnreachable(e.Member.UniqueAddress));
        Receive<ClusterEvent.ReachableMember>(e => _bound.Forget(e.Member.UniqueAddress));
        Receive<ClusterEvent.MemberDowned>(e => _bound.Forget(e.Member.UniqueAddress));
        Receive<ClusterEvent.MemberRemoved>(e => _bound.Forget(e.Member.UniqueAddress));
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
        Receive<Tick>(_ => OnTick());
        Receive<Confirmed>(OnConfirmed);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(UnreachableBound bound, MetadataQuorum quorum) => Akka.Actor.Props.Create(() => new UnreachableBoundActor(bound, quorum));

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.MemberDowned), typeof(ClusterEvent.MemberRemoved));
        Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.FromSeconds(1));
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void OnTick()
    {
        if (_confirming) return;
        var state = _cluster.State;
        if (_bound.Decide(member => StatusOf(state, member), new LiveNodes(state).SeesMajority, _quorum.IsController) is not UnreachableBound.Down down) return;
        _confirming = true;
        ConfirmAsync(_quorum).PipeTo(Self, success: confirmed => new Confirmed(down, confirmed), failure: _ => new Confirmed(down, false));
    }

    private void OnConfirmed(Confirmed c)
    {
        _confirming = false;
        if (!c.StillController) return;
        var state = _cluster.State;
        foreach (var member in c.Decision.Members)
        {
            // Still unreachable from here and not yet acted on: the resolver may have decided meanwhile.
            if (StatusOf(state, member) is not (MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining or MemberStatus.Leaving)) continue;
            if (!IsUnreachable(state, member)) continue;
            _log.Warning("node {0} ({1}) has been unreachable for {2:0.0}s and the split-brain resolver has not decided (membership is not stable): "
                + "downing it as the metadata quorum's controller, on the side that sees a majority (broker.metadata.quorum.down-unreachable-after = {3})",
                NodeIdentity.Of(MemberOf(state, member)!), member.Address, c.Decision.For.TotalSeconds, _bound.After);
            _cluster.Down(member.Address);
        }
    }

    /// <summary>True when this node still leads the quorum after a Raft read barrier (a round trip to a majority of voters).</summary>
    private static async Task<bool> ConfirmAsync(MetadataQuorum quorum)
    {
        if (!quorum.IsController) return false;
        using var timeout = new CancellationTokenSource(ConfirmTimeout);
        await quorum.ReadAsync(timeout.Token).ConfigureAwait(false);
        return quorum.IsController;
    }

    private static Member? MemberOf(ClusterEvent.CurrentClusterState state, UniqueAddress address)
    {
        foreach (var member in state.Members)
            if (member.UniqueAddress.Equals(address)) return member;
        return null;
    }

    private static MemberStatus? StatusOf(ClusterEvent.CurrentClusterState state, UniqueAddress address) => MemberOf(state, address)?.Status;

    private static bool IsUnreachable(ClusterEvent.CurrentClusterState state, UniqueAddress address)
    {
        foreach (var member in state.Unreachable)
            if (member.UniqueAddress.Equals(address)) return true;
        return false;
    }

    private sealed record Confirmed(UnreachableBound.Down Decision, bool StillController);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
