using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Broker.Server.Controller.Quorum;

namespace Broker.Server.Membership;

/// <summary>
/// While this node is not yet a member of any cluster, applies <see cref="FormationRule"/> once a second: after the
/// grace period it joins with the metadata quorum's controller as its first seed, so that nodes whose configured
/// seed is dead still form a cluster. Stops once the node is a member. Only on a metadata quorum.
/// </summary>
public sealed class ClusterFormationActor : ReceiveActor, IWithTimers
{
    public const string Name = "cluster-formation";

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly long _startedAt = Environment.TickCount64;
    private int? _askedFor;

    public ClusterFormationActor(MetadataQuorum quorum, int selfId, string selfAddress, string dataDirectory, IReadOnlyList<string> configuredSeeds, string scheme)
    {
        Receive<Tick>(_ =>
        {
            if (IsMember())
            {
                Context.Stop(Self);
                return;
            }
            var known = KnownMembers.Load(dataDirectory);
            var controller = quorum.ControllerId;
            var notMemberFor = TimeSpan.FromMilliseconds(Environment.TickCount64 - _startedAt);
            if (FormationRule.SeedsToJoin(notMemberFor, controller, _askedFor, selfId, selfAddress, known, configuredSeeds) is not { } seeds) return;
            _askedFor = controller;
            _log.Warning("not a cluster member after {0:0}s: joining with the metadata quorum's controller (node {1}) as the first seed, {2}: [{3}]",
                notMemberFor.TotalSeconds, controller, controller == selfId ? "this node, which forms the cluster if none of the others is in one" : "which forms the cluster if need be",
                string.Join(", ", seeds));
            _cluster.JoinSeedNodes(seeds.Select(s => Address.Parse($"{scheme}://{Hosting.BrokerNode.SystemName}@{s}")));
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(MetadataQuorum quorum, int selfId, string selfAddress, string dataDirectory, IReadOnlyList<string> configuredSeeds, string scheme) =>
        Akka.Actor.Props.Create(() => new ClusterFormationActor(quorum, selfId, selfAddress, dataDirectory, configuredSeeds, scheme));

    protected override void PreStart() => Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.FromSeconds(1));

    // A node that is not in a cluster has no members in its view; one that joined (or formed one) has itself.
    private bool IsMember() => MemberLookup.At(_cluster.State.Members, _cluster.SelfUniqueAddress) is not null;

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
