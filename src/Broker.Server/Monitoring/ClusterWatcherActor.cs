using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Broker.Protocol.Messages;

namespace Broker.Server.Monitoring;

/// <summary>
/// Builds the node's picture of the cluster every <c>broker.http.refresh-interval</c>: asks its own gateway the same
/// Metadata (every topic) and DescribeGroup questions a client would, turns the answers into a
/// <see cref="ClusterSnapshot"/>, runs the <see cref="ClusterEventLog"/> rules on it, sets the gauges and publishes the
/// result to the <see cref="ClusterViewFeed"/> the web page reads. Read-only: it changes nothing in the cluster.
/// States: <c>Waiting</c> (for the next tick) and <c>Refreshing</c> (one build in flight; ticks are dropped, so a slow
/// cluster is never asked twice at once).
/// </summary>
public sealed class ClusterWatcherActor : ReceiveActor, IWithTimers
{
    public const string Name = "cluster-watcher";
    private readonly IActorRef _gateway;
    private readonly ClusterViewFeed _feed;
    private readonly TimeSpan _interval;
    private readonly BrokerMetrics _metrics;
    private readonly ClusterEventLog _events = new(TimeProvider.System);
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly int _selfId;
    private ClusterSnapshot _last = ClusterSnapshot.Empty;
    private long _version;

    public ClusterWatcherActor(IActorRef gateway, ClusterViewFeed feed, TimeSpan interval, int selfId)
    {
        _gateway = gateway;
        _feed = feed;
        _interval = interval;
        _selfId = selfId;
        _metrics = BrokerMetrics.Get(Context.System);
        Waiting();
    }

    public static Props Props(IActorRef gateway, ClusterViewFeed feed, TimeSpan interval, int selfId) =>
        Akka.Actor.Props.Create(() => new ClusterWatcherActor(gateway, feed, interval, selfId));

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    protected override void PreStart() => Timers.StartPeriodicTimer(Tick.Instance, Tick.Instance, TimeSpan.Zero, _interval);

    private void Waiting()
    {
        Receive<Tick>(_ =>
        {
            BuildAsync(_gateway, _interval * 5).PipeTo(Self);
            Become(Refreshing);
        });
    }

    private void Refreshing()
    {
        Receive<Tick>(_ => { });
        Receive<ClusterSnapshot>(snapshot =>
        {
            Publish(snapshot);
            Become(Waiting);
        });
        Receive<Status.Failure>(f =>
        {
            _log.Debug("cluster watcher: refresh failed: {0}", f.Cause.Message);
            Become(Waiting);
        });
    }

    private void Publish(ClusterSnapshot snapshot)
    {
        _events.Observe(snapshot);
        var state = _cluster.State;
        var selfUp = _cluster.SelfMember.Status == MemberStatus.Up && !state.Unreachable.Contains(_cluster.SelfMember);
        _metrics.Observe(_last, snapshot, _selfId, selfUp, state.Leader is { } leader && leader.Equals(_cluster.SelfAddress));
        _last = snapshot;
        var ready = selfUp && snapshot.Partitions.Where(p => p.Leader == _selfId).All(p => p.Error is null && p.HighWatermark >= 0);
        _feed.Publish(new ClusterView(++_version, _selfId, ready, snapshot, _events.Recent));
    }

    private static async Task<ClusterSnapshot> BuildAsync(IActorRef gateway, TimeSpan timeout)
    {
        var metadata = gateway.Ask<IBrokerResponse>(new MetadataRequest(null), timeout);
        var groups = new List<DescribeGroupResponse>();
        if (await gateway.Ask<IBrokerResponse>(new ListGroupsRequest(), timeout).ConfigureAwait(false) is ListGroupsResponse list)
        {
            var asks = list.Groups.Select(g => gateway.Ask<IBrokerResponse>(new DescribeGroupRequest(g.GroupId), timeout)).ToList();
            foreach (var ask in asks)
                if (await ask.ConfigureAwait(false) is DescribeGroupResponse d) groups.Add(d);
        }
        if (await metadata.ConfigureAwait(false) is not MetadataResponse m)
            throw new InvalidOperationException("the gateway did not answer Metadata");
        return SnapshotBuilder.Build(m, groups, DateTimeOffset.UtcNow);
    }
}
