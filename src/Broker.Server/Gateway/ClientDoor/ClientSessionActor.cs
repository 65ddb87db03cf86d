using Akka.Actor;
using Akka.Event;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Security.Authorization;

namespace Broker.Server.Gateway.ClientDoor;

/// <summary>
/// One logged-in client (or every anonymous one, when the door does not require a login) on the client door: checks
/// each request against the ACLs as its principal (<see cref="ClientRequestAuthorization"/>, when authorization is on)
/// and relays what is allowed in-process to the cluster system's gateway, whose answer it passes back. One state; it
/// stops when its client has been idle for broker.client-door.session-idle-timeout (the client logs in again).
/// </summary>
internal sealed class ClientSessionActor : ReceiveActor
{
    private readonly string _principal;
    private readonly string _host;
    private readonly IActorRef _gateway;
    private readonly ClusterSecurity _security;
    private readonly TimeSpan _relayTimeout;

    public ClientSessionActor(string principal, string host, IActorRef gateway, ClusterSecurity security, ClientDoorSettings settings, bool expires)
    {
        _principal = principal;
        _host = host;
        _gateway = gateway;
        _security = security;
        _relayTimeout = settings.RelayTimeout;
        if (expires) SetReceiveTimeout(settings.SessionIdleTimeout);
        Receive<LoginRequest>(_ => Sender.Tell(new LoginResponse(ErrorCode.InvalidRequest, $"this session is already logged in as {_principal}", "")));
        Receive<IBrokerRequest>(r => Relay(r, Sender));
        Receive<MalformedRequest>(m => Sender.Tell(new ErrorResponse(ErrorCode.InvalidRequest, $"could not read request '{m.Manifest}': {m.Reason}; check that client and broker versions match")));
        Receive<ReceiveTimeout>(_ =>
        {
            Context.GetLogger().Info("client door: session of {0} idle for {1}; ended", _principal, settings.SessionIdleTimeout);
            Context.Stop(Self);
        });
    }

    public static Props Props(string principal, string host, IActorRef gateway, ClusterSecurity security, ClientDoorSettings settings, bool expires) =>
        Akka.Actor.Props.Create(() => new ClientSessionActor(principal, host, gateway, security, settings, expires));

    private void Relay(IBrokerRequest request, IActorRef replyTo)
    {
        var decision = _security.Settings.Enabled
            ? new ClientRequestAuthorization(_security.Authorizer, _principal, _host).Decide(request)
            : new ClientDecision.Forward(request);
        switch (decision)
        {
            case ClientDecision.Refuse refuse:
                if (request is not ProduceRequest { Acks: 0 }) replyTo.Tell(refuse.Response);
                break;
            case ClientDecision.Forward { Request: ProduceRequest { Acks: 0 } produce }:
                _gateway.Tell(produce, ActorRefs.NoSender);
                break;
            case ClientDecision.Forward forward:
                AskAsync(forward, Timeout(forward.Request)).PipeTo(replyTo);
                break;
        }
    }

    private async Task<object> AskAsync(ClientDecision.Forward forward, TimeSpan timeout)
    {
        try
        {
            var answer = await _gateway.Ask<object>(forward.Request, timeout).ConfigureAwait(false);
            return forward.Complete is { } complete ? complete(answer) : answer;
        }
        catch (AskTimeoutException)
        {
            return new ErrorResponse(ErrorCode.RequestTimedOut,
                $"{forward.Request.GetType().Name}: the cluster did not answer the client door within {timeout.TotalSeconds:0}s; the node may be overloaded, retry");
        }
        catch (Exception ex)
        {
            // Never a Status.Failure to the client: Akka.Remote would recreate the exception by the type name written.
            return new ErrorResponse(ErrorCode.Unknown, $"{forward.Request.GetType().Name} failed on the node ({ex.GetType().Name}: {ex.Message})");
        }
    }

    /// <summary>The relay waits as long as the request may legitimately take: the door's timeout plus the wait the request asks for.</summary>
    private TimeSpan Timeout(IBrokerRequest request) => _relayTimeout + TimeSpan.FromMilliseconds(request switch
    {
        FetchRequest f => Math.Max(0, f.MaxWaitMs),
        ProduceRequest p => Math.Max(0, p.TimeoutMs),
        JoinGroupRequest j => Math.Max(0, j.RebalanceTimeoutMs),
        _ => 0,
    });
}
