using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Remote;

namespace Broker.Server.Membership;

/// <summary>
/// Ends this incarnation when a cluster member has quarantined it. The other members quarantine a node when they
/// remove it (downed while it was paused or cut off); from then on they never talk to that incarnation again, but
/// Akka.NET's cluster does not tell the removed node: it wakes, sees everyone unreachable, and its own split-brain
/// resolver may even down the others from its side and carry on as a cluster of one, for good. Remoting does tell it
/// (<see cref="ThisActorSystemQuarantinedEvent"/>, the first time it tries to reach a member), and that is the moment to
/// down itself: the node's host (<c>BrokerNode.RunAsync</c>) starts it again as a new incarnation, which joins and catches up.
/// Only quarantine by a current member counts: a node this one has itself removed may quarantine it in turn, and that
/// says nothing about this node's place in the cluster.
/// </summary>
public sealed class QuarantineWatcherActor : ReceiveActor
{
    public const string Name = "quarantine-watcher";

    public QuarantineWatcherActor()
    {
        var cluster = Cluster.Get(Context.System);
        var log = Context.GetLogger();
        Receive<ThisActorSystemQuarantinedEvent>(e =>
        {
            if (LiveNodes.MemberAt(cluster.State, e.RemoteAddress) is not { Status: not MemberStatus.Removed }) return;
            log.Warning("cluster member {0} has quarantined this node ({1}): the cluster removed it while it was unreachable (paused, overloaded or cut off), "
                + "and will not talk to this incarnation again; stopping it so that it starts again as a new incarnation and rejoins", e.RemoteAddress, e.LocalAddress);
            cluster.Down(cluster.SelfAddress); // as the split-brain resolver downs a minority: the node shuts down as downed
        });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new QuarantineWatcherActor());

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(ThisActorSystemQuarantinedEvent));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}
