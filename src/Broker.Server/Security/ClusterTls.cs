using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

namespace Broker.Server.Security;

/// <summary>
/// Where the files of mutual TLS between nodes are (broker.security: cluster-ca, node-cert, node-key). Null settings
/// mean TLS is off, the default; setting cluster-ca turns it on and makes node-cert and node-key required.
/// </summary>
public sealed record ClusterTlsSettings(string ClusterCa, string NodeCert, string NodeKey)
{
    public static ClusterTlsSettings? Create(Config security)
    {
        var ca = security.GetString("cluster-ca", "");
        var cert = security.GetString("node-cert", "");
        var key = security.GetString("node-key", "");
        if (string.IsNullOrWhiteSpace(ca))
        {
            return string.IsNullOrWhiteSpace(cert) && string.IsNullOrWhiteSpace(key) ? null
                : throw new ConfigurationException("broker.security.node-cert/node-key are set but cluster-ca is not: set cluster-ca (--cluster-ca) to the cluster CA's certificate to turn TLS between nodes on");
        }
        return string.IsNullOrWhiteSpace(cert) || string.IsNullOrWhiteSpace(key)
            ? throw new ConfigurationException("broker.security.cluster-ca is set, so TLS between nodes is on: also set node-cert and node-key (--node-cert, --node-key) to this node's files from `broker certs node NAME`")
            : new ClusterTlsSettings(ca, cert, key);
    }
}

/// <summary>
/// Mutual TLS between nodes on Akka.Remote's DotNetty transport: every connection, in either direction, presents this
/// node's certificate and accepts only a peer whose certificate chains to the cluster CA and names a node
/// (<see cref="CertificateChains.CheckNode"/>). Akka.NET 1.5.73 calls the validator on both sides of the handshake
/// (DotNettyTransport.SetClientPipeline/SetServerPipeline); a refused inbound handshake is logged and the connection
/// closed, while a failed OUTBOUND handshake makes Akka run CoordinatedShutdown (TlsHandshakeFailureReason, exit code
/// 79), see docs/security.md.
/// </summary>
public sealed class ClusterTls
{
    private readonly X509Certificate2 _clusterCa;

    private ClusterTls(X509Certificate2 clusterCa, X509Certificate2 nodeCertificate)
    {
        _clusterCa = clusterCa;
        NodeCertificate = nodeCertificate;
    }

    /// <summary>This node's certificate, with its private key.</summary>
    public X509Certificate2 NodeCertificate { get; }

    /// <summary>
    /// Loads and checks the files before anything listens: the CA is a CA, the key belongs to the certificate, which is
    /// valid now, chains to the cluster CA and names a node. Each failure is a <see cref="CertificateException"/>
    /// naming the setting and the fix, so a misconfigured node refuses to start instead of being refused by its peers.
    /// </summary>
    public static ClusterTls Load(ClusterTlsSettings settings, DateTimeOffset now)
    {
        var ca = PemFiles.LoadCertificate(settings.ClusterCa, "broker.security.cluster-ca");
        CertificateChains.RequireCa(ca, settings.ClusterCa, "broker.security.cluster-ca");
        PemFiles.CheckValidity(ca, settings.ClusterCa, "broker.security.cluster-ca", now);
        var cert = PemFiles.LoadWithKey(settings.NodeCert, settings.NodeKey, "broker.security.node-cert", "broker.security.node-key", now);
        if (CertificateChains.ChainProblem(cert, ca, now.UtcDateTime) is { } problem)
        {
            throw new CertificateException(CertificateError.NotIssuedByCa,
                $"broker.security.node-cert '{settings.NodeCert}' {problem}: issue it from this CA (`broker certs node NAME --dir DIR-OF-cluster-ca.pem`) or point cluster-ca at the CA that issued it");
        }
        var cn = CertificateChains.CommonName(cert);
        if (!cn.StartsWith(DevCertificates.NodePrefix, StringComparison.Ordinal))
        {
            throw new CertificateException(CertificateError.WrongSubject,
                $"broker.security.node-cert '{settings.NodeCert}' is CN={cn}, not a node certificate (CN={DevCertificates.NodePrefix}*): peers would refuse it; issue one with `broker certs node NAME`");
        }
        return new ClusterTls(ca, cert);
    }

    /// <summary>The Akka.Remote settings that go with <see cref="Setup"/>: TLS on, chain validation on, client certificates required.</summary>
    public static Config AkkaConfig { get; } = ConfigurationFactory.ParseString("""
        akka.remote.dot-netty.tcp {
          enable-ssl = on
          ssl {
            suppress-validation = off
            require-mutual-authentication = on
            validate-certificate-hostname = off
          }
        }
        """);

    /// <summary>The address scheme of a node's Akka.Remote with and without TLS (seed addresses must use it).</summary>
    public static string Scheme(bool tls) => tls ? "akka.ssl.tcp" : "akka.tcp";

    /// <summary>The programmatic setup that hands Akka.Remote this node's certificate and <see cref="Validate"/>.</summary>
    public DotNettySslSetup Setup() => new(NodeCertificate, suppressValidation: false, requireMutualAuthentication: true, validateCertificateHostname: false, Validate);

    /// <summary>An ActorSystem setup with the node's config and, when TLS is on, its <see cref="Setup"/>.</summary>
    public static ActorSystemSetup SystemSetup(Config config, ClusterTls? tls)
    {
        var bootstrap = BootstrapSetup.Create().WithConfig(tls is null ? config : AkkaConfig.WithFallback(config));
        return tls is null ? ActorSystemSetup.Create(bootstrap) : ActorSystemSetup.Create(bootstrap, tls.Setup());
    }

    /// <summary>
    /// The server side of mutual TLS on the node's other node-to-node ports (the metadata quorum's Raft port and its
    /// controller channel): this node's certificate, a client certificate required, and only a node certificate from the
    /// cluster CA accepted, as on Akka.Remote. <paramref name="onRefused"/> gets the reason of each refusal.
    /// </summary>
    public SslServerAuthenticationOptions ServerOptions(Action<string> onRefused) => new()
    {
        ServerCertificate = NodeCertificate,
        ClientCertificateRequired = true,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, cert, _, _) => Accepts(cert, onRefused),
    };

    /// <summary>The client side of <see cref="ServerOptions"/>: presents this node's certificate, accepts only a node certificate from the cluster CA; host names are not checked.</summary>
    public SslClientAuthenticationOptions ClientOptions(Action<string> onRefused) => new()
    {
        TargetHost = "",
        ClientCertificates = [NodeCertificate],
        LocalCertificateSelectionCallback = (_, _, _, _, _) => NodeCertificate,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, cert, _, _) => Accepts(cert, onRefused),
    };

    private bool Accepts(X509Certificate? cert, Action<string> onRefused)
    {
        var verdict = CertificateChains.CheckNode(cert is null ? null : cert as X509Certificate2 ?? new X509Certificate2(cert), _clusterCa);
        if (verdict is PeerVerdict.Refused refused) onRefused(refused.Reason);
        return verdict is PeerVerdict.Accepted;
    }

    /// <summary>
    /// Akka's <see cref="CertificateValidationCallback"/>. The platform's own verdict (<paramref name="errors"/>) is not
    /// used: it checks against the machine's trust store, which does not hold the private cluster CA (chain errors), and
    /// host names, which this cluster does not check (a node is whoever holds a node certificate from the cluster CA).
    /// </summary>
    private bool Validate(X509Certificate2? certificate, X509Chain? chain, string remotePeer, SslPolicyErrors errors, ILoggingAdapter log)
    {
        switch (CertificateChains.CheckNode(certificate, _clusterCa))
        {
            case PeerVerdict.Accepted:
                return true;
            case PeerVerdict.Refused refused:
                log.Warning("refused a TLS peer at {0}: {1}. Only nodes with a certificate from the cluster CA (broker.security.cluster-ca) may connect", remotePeer, refused.Reason);
                return false;
            default:
                return false;
        }
    }
}
