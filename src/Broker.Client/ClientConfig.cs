// Settings every client shares: where the brokers are and how long to wait for them.
using Broker.Protocol;

namespace Broker.Client;

/// <summary>Settings shared by <see cref="Producer"/>, <see cref="Consumer"/> and <see cref="AdminClient"/>.</summary>
public class ClientConfig
{
    /// <summary>
    /// Nodes to bootstrap from, as <c>host:port[,host:port...]</c> (default <c>127.0.0.1:9190</c>). The client
    /// talks to the first whose gateway answers and fails over to the next when it stops answering.
    /// </summary>
    public string BootstrapServers { get; set; } = "127.0.0.1:9190";

    /// <summary>How long to wait for the reply to one request before it fails with <c>RequestTimedOut</c> (default 30 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long to keep trying the bootstrap addresses before a request fails with <c>BrokerNotAvailable</c>, at most
    /// <see cref="RequestTimeout"/>. Covers a node that is starting or restarting. Unless set, 3 s over plain TCP and
    /// 10 s with TLS (<see cref="SslCaLocation"/> set: Kafka's <c>socket.connection.setup.timeout.ms</c> default), since
    /// a TLS handshake on a busy host can take longer than 3 s.
    /// </summary>
    public TimeSpan ConnectTimeout
    {
        get => _connectTimeout ?? (SslCaLocation is null ? PlainConnectTimeout : TlsConnectTimeout);
        set => _connectTimeout = value;
    }

    private static readonly TimeSpan PlainConnectTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan TlsConnectTimeout = TimeSpan.FromSeconds(10);
    private TimeSpan? _connectTimeout;

    /// <summary>
    /// The address nodes reach this client at (default: the environment variable <c>BROKER_CLIENT_HOST</c>, else
    /// <c>127.0.0.1</c>). Nodes answer a client by connecting back to it, and a node other than the bootstrap one
    /// may answer (a fetch is answered by the node that hosts the partition), so a client whose nodes run
    /// elsewhere, in containers for instance, sets an address of its own machine that they can reach. When set,
    /// the client listens on every interface (on a free port) and advertises this host. All clients of a
    /// process share one connection, so they must agree on it.
    /// </summary>
    public string? ClientHost { get; set; }

    /// <summary>
    /// The user to log in as on a node's client door (<c>broker.client-door</c>, docs/security.md), with
    /// <see cref="Password"/>; null (the default) does not log in. The user is one of <c>broker users</c> (the same
    /// SCRAM users as the Kafka listener), and the cluster's ACLs decide what it may do. A door that requires a login
    /// refuses requests without one (AuthenticationFailed).
    /// </summary>
    public string? Username { get; set; }

    /// <summary>
    /// The password of <see cref="Username"/>. It travels in the login message: use a door with TLS
    /// (<see cref="SslCaLocation"/>, <c>broker.client-door.tls</c>) or one on a private network.
    /// </summary>
    public string? Password { get; set; }

    /// <summary>
    /// Kafka's <c>ssl.ca.location</c>: the PEM certificate of the CA that issued the client door's certificate. Setting
    /// it turns TLS on (the door must have <c>broker.client-door.tls.enabled = on</c>); null (the default) is plain TCP.
    /// A door whose certificate does not chain to this CA is refused, and requests fail with AuthenticationFailed naming
    /// the CA. Host names are not checked. All clients of a process share one connection, so they must agree on it.
    /// </summary>
    public string? SslCaLocation { get; set; }

    /// <summary>
    /// Kafka's <c>ssl.certificate.location</c>: this client's PEM certificate, for a door that requires client
    /// certificates (<c>broker.client-door.tls.client-auth = required</c>), with <see cref="SslKeyLocation"/>.
    /// </summary>
    public string? SslCertificateLocation { get; set; }

    /// <summary>Kafka's <c>ssl.key.location</c>: the PEM private key of <see cref="SslCertificateLocation"/> (unencrypted).</summary>
    public string? SslKeyLocation { get; set; }

    /// <summary>Throws <see cref="BrokerException"/> (InvalidConfig) for shared settings no client can run with; every client checks these first.</summary>
    internal void ValidateShared()
    {
        if (RequestTimeout <= TimeSpan.Zero)
            throw new BrokerException(ErrorCode.InvalidConfig, $"RequestTimeout must be positive, got {RequestTimeout}");
        if (string.IsNullOrEmpty(Username) != string.IsNullOrEmpty(Password))
            throw new BrokerException(ErrorCode.InvalidConfig, "Username and Password go together: set both to log in, or neither");
    }
}
