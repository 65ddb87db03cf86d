using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Broker.Server.Controller.Quorum;
using Broker.Server.Metadata;

namespace Broker.Server.Membership;

/// <summary>
/// The downing actor of <see cref="QuorumDowningProvider"/>: hosts <see cref="QuorumDowning"/>, feeding it the
/// cluster's reachability events and, while any member is unreachable, the outcome of a Raft read barrier once a
/// second. Downs the members the rule names once a barrier has confirmed that this node still leads the quorum (a
/// controller that was paused and has not yet heard of its successor must not act on its stale view), or this node
/// when the rule says it is on the side without the quorum. The node's quorum member is looked up when needed: the
/// cluster starts this actor before the node registers it.
/// </summary>
public sealed class QuorumDowningActor : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan BarrierTimeout = TimeSpan.FromSeconds(2);

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly QuorumDowning _rule;
    private bool _checking;

    public QuorumDowningActor(QuorumDowning rule)
    {
        _rule = rule;
        Receive<ClusterEvent.UnreachableMember>(e => _rule.MarkedUnreachable(e.Member.UniqueAddress));
        Receive<ClusterEvent.ReachableMember>(e => _rule.Forget(e.Member.UniqueAddress));
        Receive<ClusterEvent.MemberDowned>(e => _rule.Forget(e.Member.UniqueAddress));
        Receive<ClusterEvent.MemberRemoved>(e => _rule.Forget(e.Member.UniqueAddress));
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
        Receive<Tick>(_ => OnTick());
        Receive<Checked>(OnChecked);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(QuorumDowning rule) => Akka.Actor.Props.Create(() => new QuorumDowningActor(rule));

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.MemberDowned), typeof(ClusterEvent.MemberRemoved));
        Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.FromSeconds(1));
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void OnTick()
    {
        if (_checking || !_rule.SeesUnreachable || QuorumExtension.Find(Context.System) is not { } quorum) return;
        _checking = true;
        CheckAsync(quorum).PipeTo(Self);
    }

    /// <summary>A read barrier (a round trip to a majority of voters, through a voter on an observer), then whether this node leads.</summary>
    private static async Task<Checked> CheckAsync(IMetadataQuorum quorum)
    {
        using var timeout = new CancellationTokenSource(BarrierTimeout);
        try
        {
            await quorum.ReadAsync(timeout.Token).ConfigureAwait(false);
            return new Checked(Reached: true, quorum.IsController, quorum.ControllerId);
        }
        catch (Exception ex) when (ex is OperationCanceledException or MetadataUnavailableException)
        {
            return new Checked(Reached: false, IsController: false, quorum.ControllerId);
        }
    }

    private void OnChecked(Checked c)
    {
        _checking = false;
        if (c.Reached) _rule.QuorumReached();
        else _rule.QuorumMissed();
        var state = _cluster.State;
        switch (_rule.Decide(member => StatusOf(state, member), c.IsController))
        {
            case QuorumDowning.DownUnreachable down:
                foreach (var member in down.Members)
                {
                    if (!IsUnreachable(state, member)) continue;
                    _log.Warning("node {0} ({1}) has been unreachable for {2:0.0}s: downing it as the metadata quorum's controller (a Raft read barrier just confirmed "
                        + "that this node leads a majority of the voters; broker.metadata.quorum.downing.stable-after = {3})",
                        NodeOf(state, member), member.Address, down.For.TotalSeconds, _rule.StableAfter);
                    _cluster.Down(member.Address);
                }
                break;
            case QuorumDowning.DownSelf self:
                _log.Warning("members are unreachable and this node has not reached a majority of the metadata quorum's voters for {0:0.0}s: it is on the side "
                    + "that must give way (the controller, on the other side, downs it); downing this node so that it starts again as a new incarnation and "
                    + "rejoins once the network lets it (broker.metadata.quorum.downing.minority-after = {1})", self.For.TotalSeconds, _rule.MinorityAfter);
                _cluster.Down(_cluster.SelfAddress);
                break;
        }
    }

    private static string NodeOf(ClusterEvent.CurrentClusterState state, UniqueAddress address) =>
        MemberLookup.At(state.Members, address) is { } member ? NodeIdentity.Of(member).ToString(System.Globalization.CultureInfo.InvariantCulture) : "?";

    private static MemberStatus? StatusOf(ClusterEvent.CurrentClusterState state, UniqueAddress address) => MemberLookup.At(state.Members, address)?.Status;

    private static bool IsUnreachable(ClusterEvent.CurrentClusterState state, UniqueAddress address) => MemberLookup.At(state.Unreachable, address) is not null;

    private sealed record Checked(bool Reached, bool IsController, int? Controller);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
