using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Broker.Protocol.Messages;

namespace Broker.Server.Monitoring;

/// <summary>
/// Builds the node's picture of the cluster every <c>broker.http.refresh-interval</c>: asks its own gateway the same
/// Metadata (every topic) and, every <c>groups-refresh-interval</c>, ListGroups and DescribeGroup questions a client
/// would (lag is recomputed at every refresh from the newest log ends), turns the answers into a
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
    private readonly TimeSpan _groupsInterval;
    private readonly BrokerMetrics _metrics;
    private readonly ClusterEventLog _events = new(TimeProvider.System);
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly int _selfId;
    private ClusterSnapshot _last = ClusterSnapshot.Empty;
    private IReadOnlyList<DescribeGroupResponse> _groups = [];
    private long _groupsReadAt = long.MinValue;
    private long _version;

    public ClusterWatcherActor(IActorRef gateway, ClusterViewFeed feed, HttpSettings settings, int selfId)
    {
        _gateway = gateway;
        _feed = feed;
        _interval = settings.RefreshInterval;
        _groupsInterval = settings.GroupsRefreshInterval;
        _selfId = selfId;
        _metrics = BrokerMetrics.Get(Context.System);
        Waiting();
    }

    public static Props Props(IActorRef gateway, ClusterViewFeed feed, HttpSettings settings, int selfId) =>
        Akka.Actor.Props.Create(() => new ClusterWatcherActor(gateway, feed, settings, selfId));

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    /// <summary>One refresh's answers: the metadata, and the groups when they were re-read (null: keep the last ones).</summary>
    private sealed record Refreshed(MetadataResponse Metadata, IReadOnlyList<DescribeGroupResponse>? Groups);

    protected override void PreStart() => Timers.StartPeriodicTimer(Tick.Instance, Tick.Instance, TimeSpan.Zero, _interval);

    private void Waiting()
    {
        Receive<Tick>(_ =>
        {
            var readGroups = _groupsReadAt == long.MinValue || System.Diagnostics.Stopwatch.GetElapsedTime(_groupsReadAt) >= _groupsInterval;
            if (readGroups) _groupsReadAt = System.Diagnostics.Stopwatch.GetTimestamp();
            AskAsync(_gateway, readGroups, _interval * 5).PipeTo(Self);
            Become(Refreshing);
        });
    }

    private void Refreshing()
    {
        Receive<Tick>(_ => { });
        Receive<Refreshed>(r =>
        {
            if (r.Groups is not null) _groups = r.Groups;
            Publish(SnapshotBuilder.Build(r.Metadata, _groups, DateTimeOffset.UtcNow));
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

    private static async Task<Refreshed> AskAsync(IActorRef gateway, bool readGroups, TimeSpan timeout)
    {
        var metadata = gateway.Ask<IBrokerResponse>(new MetadataRequest(null), timeout);
        List<DescribeGroupResponse>? groups = null;
        if (readGroups && await gateway.Ask<IBrokerResponse>(new ListGroupsRequest(), timeout).ConfigureAwait(false) is ListGroupsResponse list)
        {
            groups = [];
            var asks = list.Groups.Select(g => gateway.Ask<IBrokerResponse>(new DescribeGroupRequest(g.GroupId), timeout)).ToList();
            foreach (var ask in asks)
                if (await ask.ConfigureAwait(false) is DescribeGroupResponse d) groups.Add(d);
        }
        if (await metadata.ConfigureAwait(false) is not MetadataResponse m)
            throw new InvalidOperationException("the gateway did not answer Metadata");
        return new Refreshed(m, groups);
    }
}
