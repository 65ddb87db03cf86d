// A client's link to one node's gateway: resolves it from the bootstrap list, asks it, and fails over.
using Akka.Actor;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Client.Connection;

/// <summary>
/// Resolves <c>akka.tcp://broker@host:port/user/gateway</c> with <see cref="Identify"/>, trying each bootstrap
/// address in turn, and caches the answer until the gateway dies (death watch) or a request times out;
/// then the next request resolves again, starting at the next address. Requests are Asks with the
/// configured timeout. Thread-safe; one per client.
/// </summary>
internal sealed class GatewayConnection : IBrokerTransport
{
    private readonly ActorSystem _system;
    private readonly IReadOnlyList<BootstrapAddress> _bootstrap;
    private readonly TimeSpan _requestTimeout;
    private readonly TimeSpan _connectTimeout;
    private readonly IActorRef _watcher;
    private readonly LoginRequest? _login;
    private readonly ClientTls? _tls;
    private readonly object _sync = new();
    private Task<GatewayLink>? _gateway;
    private int _preferredIndex;
    private int _disposed;

    public GatewayConnection(ClientConfig config)
    {
        _bootstrap = BootstrapAddress.ParseList(config.BootstrapServers);
        config.ValidateShared();
        _requestTimeout = config.RequestTimeout;
        _connectTimeout = config.ConnectTimeout <= TimeSpan.Zero || config.ConnectTimeout > _requestTimeout ? _requestTimeout : config.ConnectTimeout;
        _login = string.IsNullOrEmpty(config.Username) ? null : new LoginRequest(config.Username, config.Password ?? "");
        _tls = ClientTls.From(config);
        _system = ClientActorSystem.Acquire(config.ClientHost, _tls);
        _watcher = _system.ActorOf(GatewayWatcher.Props(OnGatewayTerminated));
    }

    public TimeSpan RequestTimeout => _requestTimeout;

    public Task<object> Send(IBrokerRequest request, TimeSpan timeout)
    {
        // Blocking here (a producer's sender thread) is what keeps sends in call order while resolving.
        var link = GatewayAsync().GetAwaiter().GetResult();
        return GuardReply(link.Gateway.Ask<object>(request, timeout, link.Lost), link, request, timeout);
    }

    public void SendOneWay(IBrokerRequest request)
    {
        var link = GatewayAsync().GetAwaiter().GetResult();
        link.Gateway.Tell(request, ActorRefs.NoSender);
    }

    public async Task<TResponse> RequestAsync<TResponse>(IBrokerRequest request, bool idempotent, CancellationToken cancellationToken = default)
        where TResponse : class, IBrokerResponse
    {
        for (var attempt = 1; ; attempt++)
        {
            var link = await GatewayAsync().ConfigureAwait(false);
            object reply;
            try
            {
                using var either = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, link.Lost) : null;
                reply = await link.Gateway.Ask<object>(request, _requestTimeout, either?.Token ?? link.Lost).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                Invalidate(link.Gateway);
                if (idempotent && attempt == 1) continue;
                throw TimedOut(request, link.Gateway, _requestTimeout);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The gateway died while we waited: a read can simply be asked again elsewhere.
                if (idempotent && attempt == 1) continue;
                throw Lost(request, link.Gateway);
            }
            return BrokerErrors.Expect<TResponse>(reply, Describe(request));
        }
    }

    private async Task<object> GuardReply(Task<object> ask, GatewayLink link, IBrokerRequest request, TimeSpan timeout)
    {
        try
        {
            return await ask.ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            Invalidate(link.Gateway);
            throw TimedOut(request, link.Gateway, timeout);
        }
        catch (OperationCanceledException)
        {
            throw Lost(request, link.Gateway);
        }
    }

    /// <summary>The cached gateway, or the resolution in progress; a failed resolution is handed out once and then retried.</summary>
    private Task<GatewayLink> GatewayAsync()
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (_gateway is { IsFaulted: true } or { IsCanceled: true })
            {
                var failed = _gateway;
                _gateway = null;
                return failed;
            }
            return _gateway ??= ResolveAsync(_preferredIndex);
        }
    }

    /// <summary>
    /// Identifies the gateway at each bootstrap address in turn, starting at <paramref name="start"/>, in rounds
    /// until one answers or <see cref="ClientConfig.ConnectTimeout"/> passes. Rounds matter because a refused
    /// or just-closed connection is answered at once with an empty identity (Akka.Remote gates the address for
    /// a moment and dead letters answer), which is also how a node that is restarting looks.
    /// </summary>
    private async Task<GatewayLink> ResolveAsync(int start)
    {
        var started = Environment.TickCount64;
        var deadline = started + (long)_connectTimeout.TotalMilliseconds;
        var silent = new bool[_bootstrap.Count];
        while (true)
        {
            for (var i = 0; i < _bootstrap.Count; i++)
            {
                var index = (start + i) % _bootstrap.Count;
                var remaining = deadline - Environment.TickCount64;
                if (remaining <= 0) break;
                try
                {
                    var identity = await _system.ActorSelection(_tls is null ? _bootstrap[index].GatewayPath : _bootstrap[index].GatewayPathWith(ClientTls.Scheme))
                        .Ask<ActorIdentity>(new Identify(index), TimeSpan.FromMilliseconds(remaining)).ConfigureAwait(false);
                    if (identity.Subject is { } gateway)
                    {
                        var target = _login is null ? gateway : await LoginAsync(gateway, TimeSpan.FromMilliseconds(Math.Max(remaining, 5000))).ConfigureAwait(false);
                        _watcher.Tell(new WatchGateway(target));
                        return new GatewayLink(target, index);
                    }
                }
                catch (AskTimeoutException)
                {
                    silent[index] = true;
                }
            }
            var left = deadline - Environment.TickCount64;
            if (left <= 0) break;
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(250, left))).ConfigureAwait(false);
        }

        if (_tls?.Problem(started) is { } tlsProblem)
        {
            // As Kafka's clients report a failed SSL handshake (SslAuthenticationException): an authentication failure.
            throw new BrokerException(ErrorCode.AuthenticationFailed, $"no broker reachable at {string.Join(",", _bootstrap)} over TLS: {tlsProblem}");
        }
        var failures = new List<string>(_bootstrap.Count);
        for (var i = 0; i < _bootstrap.Count; i++)
            failures.Add(silent[i] ? $"{_bootstrap[i]} did not answer" : $"{_bootstrap[i]} refused or has no gateway");
        throw new BrokerException(ErrorCode.BrokerNotAvailable,
            $"no broker reachable at {string.Join(",", _bootstrap)} within {_connectTimeout.TotalSeconds:0.#}s ({string.Join("; ", failures)}); is a node running? start one with `broker node`"
            + (_tls is null ? "" : TlsHint(_tls)));
    }

    /// <summary>
    /// With TLS 1.3 the client's side of the handshake completes before the door checks the client's certificate, so a
    /// door that refuses it just closes the connection: the hint names what to check.
    /// </summary>
    private static string TlsHint(ClientTls tls) => tls.CertificateLocation is null
        ? "; over TLS: the address must be a client door with broker.client-door.tls on, and a door with client-auth = required also needs SslCertificateLocation and SslKeyLocation (ssl.certificate.location, ssl.key.location), a certificate from its client-ca"
        : $"; over TLS: the address must be a client door with broker.client-door.tls on, which accepts '{tls.CertificateLocation}' only if its client-ca issued it";

    /// <summary>
    /// Logs in at a client door's gateway: the answer names this client's session under it, to which every request then
    /// goes (the session acts as the user). A refused login fails with AuthenticationFailed at once: another node checks
    /// the same users.
    /// </summary>
    private async Task<IActorRef> LoginAsync(IActorRef gateway, TimeSpan timeout)
    {
        var reply = await gateway.Ask<object>(_login!, timeout).ConfigureAwait(false);
        if (reply is not LoginResponse { Error: ErrorCode.None } login) throw BrokerErrors.Of(reply, "login");
        var identity = await _system.ActorSelection(gateway.Path / login.Session).Ask<ActorIdentity>(new Identify(login.Session), timeout).ConfigureAwait(false);
        return identity.Subject ?? throw new BrokerException(ErrorCode.AuthenticationFailed,
            $"the login at {gateway.Path.Address} succeeded but its session ended at once; retry (the door may be stopping)");
    }

    /// <summary>Death watch saw the gateway stop: requests waiting on it fail now, and the next one resolves again.</summary>
    private void OnGatewayTerminated(IActorRef gateway) => Invalidate(gateway, dead: true);

    /// <summary>
    /// Forgets <paramref name="gateway"/> if it is the current one, so the next request resolves again, starting
    /// at the next bootstrap address. Requests already waiting on it fail at once only if it is known <paramref name="dead"/>
    /// (a timeout may just mean a slow node, and its other requests may still be answered).
    /// </summary>
    private void Invalidate(IActorRef gateway, bool dead = false)
    {
        GatewayLink? lost = null;
        lock (_sync)
        {
            if (_gateway is { IsCompletedSuccessfully: true } current && current.Result.Gateway.Equals(gateway))
            {
                lost = current.Result;
                _gateway = null;
                _preferredIndex = (lost.BootstrapIndex + 1) % _bootstrap.Count;
            }
        }
        if (dead) lost?.MarkLost();
    }

    private static BrokerException TimedOut(IBrokerRequest request, IActorRef gateway, TimeSpan timeout) =>
        new(ErrorCode.RequestTimedOut,
            $"{Describe(request)} got no reply from {gateway.Path.Address} within {timeout.TotalSeconds:0.#}s; the node may be down or overloaded (raise RequestTimeout if it is just slow)");

    private static BrokerException Lost(IBrokerRequest request, IActorRef gateway) =>
        new(ErrorCode.BrokerNotAvailable,
            $"{Describe(request)}: the node at {gateway.Path.Address} went away before answering; a write may or may not have been applied");

    private static string Describe(IBrokerRequest request) => request.GetType().Name;

    public void Dispose() => DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return ValueTask.CompletedTask;
        _system.Stop(_watcher);
        return new ValueTask(ClientActorSystem.Release(_system));
    }
}
