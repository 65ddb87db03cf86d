// Death-watches the current gateway, so a node that stops is noticed before the next request times out.
using Akka.Actor;

namespace Broker.Client.Connection;

internal sealed class GatewayWatcher : ReceiveActor
{
    public GatewayWatcher(Action<IActorRef> onTerminated)
    {
        Receive<WatchGateway>(w => Context.Watch(w.Gateway));
        Receive<Terminated>(t => onTerminated(t.ActorRef));
    }

    public static Props Props(Action<IActorRef> onTerminated) => Akka.Actor.Props.Create(() => new GatewayWatcher(onTerminated));
}

/// <summary>Local only: start watching this gateway.</summary>
internal sealed record WatchGateway(IActorRef Gateway);
