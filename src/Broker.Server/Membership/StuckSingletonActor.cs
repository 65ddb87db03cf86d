using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Broker.Server.Membership;

/// <summary>
/// Hosts <see cref="StuckSingletonRule"/>: every 2 s, while this node is the oldest Up member, checks that the shard
/// coordinator and the topic registry singletons run here, and downs this node (it restarts in its process) when
/// they have been missing for the rule's bound.
/// </summary>
public sealed class StuckSingletonActor : ReceiveActor, IWithTimers
{
    public const string Name = "stuck-singleton-watch";

    // The singletons every node's managers host on the oldest member (BrokerNode.StartActors, Akka's sharding).
    private static readonly string[] SingletonPaths = ["/system/sharding/partitionCoordinator/singleton", "/user/topic-registry/singleton"];
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StuckSingletonRule _rule;
    private bool _looking;

    public StuckSingletonActor(StuckSingletonRule rule)
    {
        _rule = rule;
        Receive<Tick>(_ => OnTick());
        Receive<Looked>(OnLooked);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(StuckSingletonRule rule) => Akka.Actor.Props.Create(() => new StuckSingletonActor(rule));

    protected override void PreStart() => Timers.StartPeriodicTimer("tick", Tick.Instance, Interval);

    private void OnTick()
    {
        if (_looking) return;
        if (!IsOldest())
        {
            _rule.ShouldRestart(isOldest: false, hostsSingletons: false);
            return;
        }
        _looking = true;
        var selections = SingletonPaths.Select(path => Context.ActorSelection(path)).ToArray();
        HostsAllAsync(selections).PipeTo(Self, success: hosted => new Looked(hosted), failure: _ => new Looked(false));
    }

    private void OnLooked(Looked looked)
    {
        _looking = false;
        // Still the oldest now that the answer is back: membership may have moved meanwhile.
        if (!_rule.ShouldRestart(IsOldest(), looked.HostsAll)) return;
        _log.Warning("this node has been the oldest cluster member for {0:0}s without hosting the cluster singletons (the shard coordinator, the topic registry): "
            + "its singleton manager handed them to a member that turned out older and stopped for good (Akka's End state); downing this node so that it "
            + "restarts as the youngest and the next oldest takes them over", _rule.MissingFor.TotalSeconds);
        _cluster.Down(_cluster.SelfAddress);
    }

    private static async Task<bool> HostsAllAsync(ActorSelection[] selections)
    {
        foreach (var selection in selections)
        {
            try
            {
                await selection.ResolveOne(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            }
            catch (ActorNotFoundException)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Whether this node is the oldest of the Up (or Leaving) members, the one Akka's singleton managers pick.</summary>
    private bool IsOldest()
    {
        var self = _cluster.SelfMember;
        if (self.Status is not (MemberStatus.Up or MemberStatus.Leaving)) return false;
        foreach (var member in _cluster.State.Members)
        {
            if (member.Status is MemberStatus.Up or MemberStatus.Leaving && !member.Equals(self) && member.IsOlderThan(self)) return false;
        }
        return true;
    }

    private sealed record Looked(bool HostsAll);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
