using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using Akka.Remote;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Security.Authorization;
using Broker.Server.Security.Sasl;

namespace Broker.Server.Gateway.ClientDoor;

/// <summary>
/// The door system's /user/gateway, the address native clients resolve. A <see cref="LoginRequest"/> is checked against
/// the SCRAM credentials (<see cref="PasswordLogin"/>) and, when right, starts a <see cref="ClientSessionActor"/> child
/// with a random, unguessable name that the client then talks to. Any other request goes to the anonymous session
/// (<c>User:ANONYMOUS</c>), or, when the door requires a login, is answered AuthenticationFailed. A client's sessions end
/// when its connection does (Akka.Remote's DisassociatedEvent). One state.
/// </summary>
internal sealed class ClientDoorActor : ReceiveActor
{
    public const string AnonymousPrincipal = "User:ANONYMOUS";
    private static readonly TimeSpan FailurePause = TimeSpan.FromSeconds(1);

    private readonly ClientDoorSettings _settings;
    private readonly IActorRef _gateway;
    private readonly ClusterSecurity _security;
    private readonly ICredentialStore _credentials;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<Address, HashSet<IActorRef>> _sessions = [];
    private IActorRef? _anonymous;

    public ClientDoorActor(ClientDoorSettings settings, IActorRef gateway, ClusterSecurity security, ICredentialStore credentials)
    {
        _settings = settings;
        _gateway = gateway;
        _security = security;
        _credentials = credentials;
        Receive<LoginRequest>(Login);
        Receive<LoginChecked>(OnLoginChecked);
        Receive<IBrokerRequest>(r =>
        {
            if (_settings.RequireLogin)
            {
                Sender.Tell(new ErrorResponse(ErrorCode.AuthenticationFailed,
                    "this node's client door requires a login: set the client's Username and Password (CLI: sasl.username and sasl.password in --command-config)"));
                return;
            }
            _anonymous ??= Context.ActorOf(ClientSessionActor.Props(AnonymousPrincipal, "*", _gateway, _security, _settings, expires: false), "anonymous");
            _anonymous.Forward(r);
        });
        Receive<MalformedRequest>(m => Sender.Tell(new ErrorResponse(ErrorCode.InvalidRequest, $"could not read request '{m.Manifest}': {m.Reason}; check that client and broker versions match")));
        Receive<DisassociatedEvent>(d => EndSessions(d.RemoteAddress));
        Receive<Terminated>(t =>
        {
            foreach (var sessions in _sessions.Values) sessions.Remove(t.ActorRef);
        });
    }

    public static Props Props(ClientDoorSettings settings, IActorRef gateway, ClusterSecurity security, ICredentialStore credentials) =>
        Akka.Actor.Props.Create(() => new ClientDoorActor(settings, gateway, security, credentials));

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(DisassociatedEvent));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void Login(LoginRequest login)
    {
        var (replyTo, client) = (Sender, Sender.Path.Address);
        var credentials = _credentials;
        Task.Run(() => new LoginChecked(PasswordLogin.Check(credentials, login.Username, login.Password), login.Username, replyTo, client)).PipeTo(Self);
    }

    private void OnLoginChecked(LoginChecked checkedLogin)
    {
        var client = checkedLogin.Client;
        switch (checkedLogin.Outcome)
        {
            case LoginOutcome.LoggedIn loggedIn:
                var name = "session-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
                var host = client.Host ?? "*";
                var session = Context.ActorOf(ClientSessionActor.Props(loggedIn.Principal, host, _gateway, _security, _settings, expires: true), name);
                Context.Watch(session);
                if (!_sessions.TryGetValue(client, out var sessions)) _sessions[client] = sessions = [];
                sessions.Add(session);
                _log.Info("client door: {0} logged in as {1}", client, loggedIn.Principal);
                checkedLogin.ReplyTo.Tell(new LoginResponse(ErrorCode.None, null, name));
                break;
            case LoginOutcome.Refused refused:
                _log.Warning("client door: login from {0} as '{1}' refused", client, checkedLogin.User);
                var reply = new LoginResponse(ErrorCode.AuthenticationFailed, refused.Message, "");
                Context.System.Scheduler.ScheduleTellOnce(FailurePause, checkedLogin.ReplyTo, reply, Self); // guessing is slow
                break;
        }
    }

    private void EndSessions(Address client)
    {
        if (!_sessions.Remove(client, out var sessions)) return;
        foreach (var session in sessions) Context.Stop(session);
        _log.Info("client door: {0} disconnected; its {1} session(s) ended", client, sessions.Count);
    }
}
