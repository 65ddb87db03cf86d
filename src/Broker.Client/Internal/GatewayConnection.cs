using Akka.Actor;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Client.Internal;

/// <summary>
/// Finds a node's gateway among the bootstrap addresses (Identify over Akka.Remote), sends requests to
/// it, and fails over to the next address when the gateway stops answering.
/// </summary>
internal sealed class GatewayConnection : IDisposable
{
    private const string SystemName = "broker";
    private readonly IReadOnlyList<string> _bootstrap;
    private readonly TimeSpan _requestTimeout;
    private readonly SemaphoreSlim _resolving = new(1, 1);
    private IActorRef? _gateway;
    private int _next;
    private int _disposed;

    public GatewayConnection(ClientConfig config)
    {
        _bootstrap = ParseBootstrap(config.BootstrapServers);
        _requestTimeout = config.RequestTimeout;
        System = ClientSystem.Acquire();
    }

    public ActorSystem System { get; }

    public TimeSpan RequestTimeout => _requestTimeout;

    public static IReadOnlyList<string> ParseBootstrap(string servers)
    {
        var list = new List<string>();
        foreach (var part in (servers ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = part.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(part.AsSpan(colon + 1), out var port) || port is <= 0 or > 65535)
                throw new ArgumentException($"bootstrap address '{part}' must be host:port, e.g. 127.0.0.1:9190");
            list.Add(part);
        }
        if (list.Count == 0) throw new ArgumentException("no bootstrap address given; use host:port[,host:port], e.g. 127.0.0.1:9190");
        return list;
    }

    /// <summary>The gateway, resolving it first if needed.</summary>
    public async Task<IActorRef> GatewayAsync()
    {
        var current = _gateway;
        if (current is not null) return current;
        await _resolving.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_gateway is not null) return _gateway;
            var identifyTimeout = TimeSpan.FromSeconds(Math.Min(5, _requestTimeout.TotalSeconds));
            for (var attempt = 0; attempt < _bootstrap.Count; attempt++)
            {
                var address = _bootstrap[(_next + attempt) % _bootstrap.Count];
                try
                {
                    var selection = System.ActorSelection($"akka.tcp://{SystemName}@{address}/user/gateway");
                    var identity = await selection.Ask<ActorIdentity>(new Identify(address), identifyTimeout).ConfigureAwait(false);
                    if (identity.Subject is null) continue;
                    _next = (_next + attempt) % _bootstrap.Count;
                    return _gateway = identity.Subject;
                }
                catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
                {
                }
            }
            throw new BrokerException(ErrorCode.BrokerNotAvailable,
                $"no broker reachable at {string.Join(", ", _bootstrap)}; is a node running? start one with `broker node`");
        }
        finally
        {
            _resolving.Release();
        }
    }

    /// <summary>Forgets a gateway that did not answer, so the next request resolves again (trying the next address first).</summary>
    public void Invalidate(IActorRef failed)
    {
        if (Interlocked.CompareExchange(ref _gateway, null, failed) == failed) _next = (_next + 1) % _bootstrap.Count;
    }

    /// <summary>
    /// Sends a request and returns the typed reply. An ErrorResponse becomes a BrokerException; a timeout
    /// becomes RequestTimedOut, after one retry on a freshly resolved gateway when the request is idempotent.
    /// </summary>
    public async Task<T> AskAsync<T>(IBrokerRequest request, TimeSpan? timeout = null, bool idempotent = true) where T : class
    {
        var attempts = idempotent ? 2 : 1;
        for (var attempt = 1; ; attempt++)
        {
            var gateway = await GatewayAsync().ConfigureAwait(false);
            object reply;
            try
            {
                reply = await gateway.Ask<object>(request, timeout ?? _requestTimeout).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                Invalidate(gateway);
                if (attempt < attempts) continue;
                throw new BrokerException(ErrorCode.RequestTimedOut,
                    $"the broker did not answer within {(timeout ?? _requestTimeout).TotalSeconds:0.#}s; check that the node is running and reachable");
            }
            return reply switch
            {
                T typed => typed,
                ErrorResponse e => throw new BrokerException(e.Error, e.ErrorMessage ?? e.Error.ToString()),
                _ => throw new BrokerException(ErrorCode.InvalidRequest, $"unexpected reply {reply.GetType().Name} to {request.GetType().Name}"),
            };
        }
    }

    /// <summary>Sends without waiting for a reply (acks=0).</summary>
    public async Task TellAsync(IBrokerRequest request)
    {
        var gateway = await GatewayAsync().ConfigureAwait(false);
        gateway.Tell(request, ActorRefs.NoSender);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        ClientSystem.Release();
    }
}
