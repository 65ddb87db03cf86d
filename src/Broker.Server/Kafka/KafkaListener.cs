using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;

namespace Broker.Server.Kafka;

/// <summary>
/// The node's Kafka wire-protocol listener: a TCP socket that accepts Kafka clients and runs a
/// <see cref="KafkaConnection"/> for each. It is bound before the ActorSystem starts, so the address it
/// advertises (<see cref="KafkaEndpoint"/> role) is known, and started once the gateway exists: every
/// request becomes a message to the gateway, the node's one front desk. Stops with the node
/// (CoordinatedShutdown, service-unbind).
/// </summary>
public sealed class KafkaListener : IDisposable
{
    private readonly Socket _socket;
    private readonly KafkaSettings _settings;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<KafkaConnection, Task> _connections = new();
    private Task _accepting = Task.CompletedTask;

    private KafkaListener(Socket socket, KafkaSettings settings, int boundPort, Security.KafkaTls? tls)
    {
        _socket = socket;
        _settings = settings;
        BoundPort = boundPort;
        _tls = tls;
    }

    private readonly Security.KafkaTls? _tls;

    /// <summary>SASL credentials: the replicated users, then the config file's bootstrap users (null without SASL).</summary>
    private Security.Sasl.ICredentialStore? _credentials;

    /// <summary>Kafka's name for what the listener speaks: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.</summary>
    public string SecurityProtocol => (_settings.Sasl is null ? "" : "SASL_") + (_tls is null ? "PLAINTEXT" : "SSL");

    public int BoundPort { get; }
    public string AdvertisedHost => _settings.AdvertisedHost;
    public int AdvertisedPort => _settings.AdvertisedPort > 0 ? _settings.AdvertisedPort : BoundPort;

    /// <summary>
    /// Binds the listening socket, or returns null with the reason: when the listener is off, or its port is
    /// taken (two nodes on one host with the default port), the node runs without it rather than not at all.
    /// </summary>
    public static KafkaListener? TryBind(KafkaSettings settings, out string? problem)
    {
        problem = null;
        if (!settings.Enabled)
        {
            problem = "the Kafka listener is off (broker.kafka.enabled = off)";
            return null;
        }
        // Certificate files are checked before binding: a wrong one stops the node with the fix (CertificateException).
        var tls = settings.Ssl is { } ssl ? Security.KafkaTls.Load(ssl, DateTimeOffset.UtcNow) : null;
        Socket? socket = null;
        try
        {
            var address = settings.Host is "" or "0.0.0.0" ? IPAddress.Any
                : settings.Host == "::" ? IPAddress.IPv6Any
                : IPAddress.TryParse(settings.Host, out var ip) ? ip
                : Dns.GetHostAddresses(settings.Host)[0];
            socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(address, settings.Port));
            socket.Listen(512);
            return new KafkaListener(socket, settings, ((IPEndPoint)socket.LocalEndPoint!).Port, tls);
        }
        catch (SocketException ex)
        {
            socket?.Dispose();
            problem = $"the Kafka listener could not bind {settings.Host}:{settings.Port} ({ex.SocketErrorCode}): set another port with --kafka-port or broker.kafka.port, or broker.kafka.enabled = off";
            return null;
        }
    }

    /// <summary>The node's configuration with this listener's advertised address added to its cluster roles.</summary>
    public Config AnnounceIn(Config config)
    {
        var roles = config.GetStringList("akka.cluster.roles").Append(KafkaEndpoint.Role(AdvertisedHost, AdvertisedPort));
        var list = string.Join(",", roles.Select(r => "\"" + r.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\""));
        return ConfigurationFactory.ParseString($"akka.cluster.roles = [{list}]").WithFallback(config);
    }

    /// <summary>Starts accepting clients, whose requests go to <paramref name="gateway"/>.</summary>
    public void Start(ActorSystem system, IActorRef gateway)
    {
        var log = Logging.GetLogger(system, "kafka-listener");
        var security = Security.Authorization.ClusterSecurity.Get(system);
        _credentials = _settings.Sasl is { } sasl ? security.Credentials(sasl.Credentials) : null;
        var brokerSettings = BrokerSettings.Create(system.Settings.Config);
        var handler = new KafkaRequestHandler(gateway, brokerSettings, _settings, Membership.NodeIdentity.Self(system), AdvertisedHost, AdvertisedPort,
            new FetchSessionCache(_settings.MaxFetchSessions, TimeProvider.System), new NoLeaderMoves(), log)
        {
            Security = security,
            Metadata = new Metadata.MetadataStore(system, brokerSettings.MetadataTimeout),
        };
        _accepting = AcceptAsync(handler, log);
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseServiceUnbind, "kafka-listener", async () =>
        {
            await StopAsync();
            return Done.Instance;
        });
        log.Info("Kafka listener on {0}:{1}, advertised as {2}:{3} ({4})", _settings.Host, BoundPort, AdvertisedHost, AdvertisedPort, SecurityProtocol);
        if (security.Settings.Enabled && _settings.Sasl is null && _settings.Ssl is not { ClientAuth: Security.KafkaClientAuth.Required })
        {
            log.Warning("Kafka listener: authorization is on but clients do not authenticate (no SASL, no required client certificate): every client is User:ANONYMOUS "
                + "and gets only what ACLs grant User:ANONYMOUS or User:*; set broker.kafka.security-protocol = SASL_SSL or ssl.client-auth = required");
        }
    }

    private async Task AcceptAsync(KafkaRequestHandler handler, ILoggingAdapter log)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                log.Warning("kafka: accept failed ({0}); still listening", ex.SocketErrorCode);
                continue;
            }
            client.NoDelay = true;
            var connection = new KafkaConnection(client, handler, _settings, log)
            {
                Tls = _tls,
                Sasl = _settings.Sasl is { } sasl ? new Security.Sasl.SaslAuthenticator(_credentials!, sasl.EnabledMechanisms) : null,
            };
            _connections[connection] = Task.Run(async () =>
            {
                await connection.RunAsync(_stopping.Token);
                _connections.TryRemove(connection, out _);
            });
        }
    }

    /// <summary>Stops accepting and closes every connection.</summary>
    public async Task StopAsync()
    {
        if (_stopping.IsCancellationRequested) return;
        await _stopping.CancelAsync();
        _socket.Dispose();
        await _accepting;
        await Task.WhenAll(_connections.Values);
    }

    /// <summary>Closes the socket and every connection at once, without waiting for them (<see cref="StopAsync"/> waits).</summary>
    public void Dispose()
    {
        if (!_stopping.IsCancellationRequested) _stopping.Cancel();
        _socket.Dispose();
        _stopping.Dispose();
    }
}
