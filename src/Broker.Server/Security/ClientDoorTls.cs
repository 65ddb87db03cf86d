using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

namespace Broker.Server.Security;

/// <summary>
/// broker.client-door.tls: the files of TLS on the native clients' door. The door presents <see cref="Cert"/> (empty in
/// HOCON = the node certificate, broker.security.node-cert/node-key) and, with client-auth = required, accepts only
/// clients whose certificate chains to <see cref="ClientCa"/>. Null settings mean the door speaks plain TCP.
/// </summary>
public sealed record ClientDoorTlsSettings(string Cert, string Key, bool ClientAuthRequired, string? ClientCa)
{
    public static ClientDoorTlsSettings? Create(Config? tls, Config? security)
    {
        if (tls is null || !tls.GetBoolean("enabled", false)) return null;
        var cert = tls.GetString("cert", "") is { Length: > 0 } c ? c : security?.GetString("node-cert", "") ?? "";
        var key = tls.GetString("key", "") is { Length: > 0 } k ? k : security?.GetString("node-key", "") ?? "";
        if (cert.Length == 0 || key.Length == 0)
        {
            throw new ConfigurationException("broker.client-door.tls.enabled = on needs a server certificate: set broker.client-door.tls.cert and key, "
                + "or broker.security.node-cert and node-key (`broker certs node NAME`), which the door then presents");
        }
        var clientAuth = tls.GetString("client-auth", "none");
        var required = clientAuth switch
        {
            "none" => false,
            "required" => true,
            _ => throw new ConfigurationException($"broker.client-door.tls.client-auth must be none or required, got '{clientAuth}'"),
        };
        var clientCa = tls.GetString("client-ca", "") is { Length: > 0 } ca ? ca : null;
        if (required && clientCa is null)
        {
            throw new ConfigurationException("broker.client-door.tls.client-auth = required needs client-ca: the CA that issues the clients' certificates (e.g. `broker certs create-ca`'s client CA)");
        }
        return new ClientDoorTlsSettings(cert, key, required, clientCa);
    }
}

/// <summary>
/// TLS on the client door's ActorSystem (Akka.Remote's DotNetty transport, as <see cref="ClusterTls"/> does between
/// nodes). Akka.NET 1.5.73 facts this relies on (DotNettyTransport): the server side asks a client for its certificate
/// only with require-mutual-authentication, and then calls <see cref="Validate"/>; a failed OUTBOUND handshake runs
/// CoordinatedShutdown (TlsHandshakeFailureReason, exit code 79), which the door's config makes a no-op
/// (<see cref="AkkaConfig"/>): a client that disconnects, or names a sender address that does not speak TLS, would
/// otherwise make the door connect out, fail and stop.
/// </summary>
public sealed class ClientDoorTls
{
    private readonly X509Certificate2? _clientCa;

    private ClientDoorTls(X509Certificate2 certificate, X509Certificate2? clientCa, bool clientAuthRequired)
    {
        Certificate = certificate;
        _clientCa = clientCa;
        ClientAuthRequired = clientAuthRequired;
    }

    /// <summary>The door's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Whether a client must present a certificate from the client CA.</summary>
    public bool ClientAuthRequired { get; }

    /// <summary>Loads and checks the files before the door listens; each failure is a <see cref="CertificateException"/> naming the setting.</summary>
    public static ClientDoorTls Load(ClientDoorTlsSettings settings, DateTimeOffset now)
    {
        var cert = PemFiles.LoadWithKey(settings.Cert, settings.Key, "broker.client-door.tls.cert", "broker.client-door.tls.key", now);
        X509Certificate2? ca = null;
        if (settings.ClientCa is { } caPath)
        {
            ca = PemFiles.LoadCertificate(caPath, "broker.client-door.tls.client-ca");
            CertificateChains.RequireCa(ca, caPath, "broker.client-door.tls.client-ca");
            PemFiles.CheckValidity(ca, caPath, "broker.client-door.tls.client-ca", now);
        }
        return new ClientDoorTls(cert, ca, settings.ClientAuthRequired);
    }

    /// <summary>
    /// The door system's TLS settings. CoordinatedShutdown neither runs on Terminate nor terminates the system: the door
    /// registers no shutdown tasks (the node terminates it directly), so the only run left is Akka's reaction to a failed
    /// outbound handshake, which must not stop the door.
    /// </summary>
    public Config AkkaConfig => ConfigurationFactory.ParseString($$"""
        akka.remote.dot-netty.tcp {
          enable-ssl = on
          ssl {
            suppress-validation = off
            require-mutual-authentication = {{(ClientAuthRequired ? "on" : "off")}}
            validate-certificate-hostname = off
          }
        }
        akka.coordinated-shutdown {
          run-by-actor-system-terminate = off
          terminate-actor-system = off
        }
        """);

    /// <summary>The programmatic setup that hands Akka.Remote the door's certificate and <see cref="Validate"/>.</summary>
    public DotNettySslSetup Setup() => new(Certificate, suppressValidation: false, requireMutualAuthentication: ClientAuthRequired, validateCertificateHostname: false, Validate);

    /// <summary>Accepts a client certificate that chains to the client CA (called only with client-auth = required).</summary>
    private bool Validate(X509Certificate2? certificate, X509Chain? chain, string remotePeer, SslPolicyErrors errors, ILoggingAdapter log)
    {
        if (_clientCa is null) return true;
        if (certificate is null)
        {
            log.Warning("client door: refused a TLS client at {0}: it presented no certificate, and broker.client-door.tls.client-auth = required", remotePeer);
            return false;
        }
        if (CertificateChains.ChainProblem(certificate, _clientCa) is { } problem)
        {
            log.Warning("client door: refused a TLS client at {0}: its certificate {1} {2}; clients need a certificate from broker.client-door.tls.client-ca", remotePeer, certificate.Subject, problem);
            return false;
        }
        return true;
    }
}
