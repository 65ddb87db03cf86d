using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;
using Akka.Event;

namespace Broker.Server.Security;

/// <summary>Kafka's ssl.client.auth: whether a Kafka client must present a certificate from the truststore's CA.</summary>
public enum KafkaClientAuth
{
    None,
    Requested,
    Required,
}

/// <summary>
/// The Kafka listener's TLS settings (broker.kafka: security-protocol, and ssl.* named after Kafka's settings with PEM
/// files): null when the listener speaks PLAINTEXT, the default.
/// </summary>
public sealed record KafkaTlsSettings(string CertificateLocation, string KeyLocation, string TruststoreLocation, KafkaClientAuth ClientAuth)
{
    /// <summary>
    /// Reads broker.kafka; the certificate and key default to the node's own (broker.security.node-cert/node-key),
    /// which Kafka clients then verify with the cluster CA (ssl.ca.location).
    /// </summary>
    public static KafkaTlsSettings? Create(Config kafka, Config security)
    {
        var protocol = kafka.GetString("security-protocol", "PLAINTEXT");
        if (protocol is "PLAINTEXT" or "SASL_PLAINTEXT") return null;
        if (protocol is not ("SSL" or "SASL_SSL"))
        {
            throw new ConfigurationException($"broker.kafka.security-protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got '{protocol}'");
        }
        var ssl = kafka.GetConfig("ssl") ?? ConfigurationFactory.Empty;
        var clientAuth = ssl.GetString("client-auth", "none") switch
        {
            "none" => KafkaClientAuth.None,
            "requested" => KafkaClientAuth.Requested,
            "required" => KafkaClientAuth.Required,
            var other => throw new ConfigurationException($"broker.kafka.ssl.client-auth must be none, requested or required (Kafka's ssl.client.auth), got '{other}'"),
        };
        var cert = Or(ssl.GetString("certificate-location", ""), security.GetString("node-cert", ""));
        var key = Or(ssl.GetString("key-location", ""), security.GetString("node-key", ""));
        if (cert.Length == 0 || key.Length == 0)
        {
            throw new ConfigurationException("broker.kafka.security-protocol = SSL needs a certificate: set broker.kafka.ssl.certificate-location and key-location (PEM), or the node's broker.security.node-cert and node-key");
        }
        var truststore = ssl.GetString("truststore-location", "");
        if (clientAuth != KafkaClientAuth.None && truststore.Length == 0)
        {
            throw new ConfigurationException($"broker.kafka.ssl.client-auth = {clientAuth.ToString().ToLowerInvariant()} needs broker.kafka.ssl.truststore-location: the CA (PEM) client certificates must come from, e.g. client-ca.pem from `broker certs create-ca`");
        }
        return new KafkaTlsSettings(cert, key, truststore, clientAuth);
    }

    private static string Or(string value, string fallback) => string.IsNullOrWhiteSpace(value) ? fallback : value;
}

/// <summary>
/// TLS on the Kafka listener (Kafka's SSL security protocol): each accepted socket does a server handshake with the
/// listener's certificate before any Kafka frame is read; with client-auth the client's certificate must chain to the
/// truststore's CA (the client CA), and its subject's common name is the connection's principal.
/// </summary>
public sealed class KafkaTls
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);
    private readonly X509Certificate2 _certificate;
    private readonly X509Certificate2? _clientCa;
    private readonly KafkaClientAuth _clientAuth;

    private KafkaTls(X509Certificate2 certificate, X509Certificate2? clientCa, KafkaClientAuth clientAuth)
    {
        _certificate = certificate;
        _clientCa = clientCa;
        _clientAuth = clientAuth;
    }

    /// <summary>Loads and checks the files when the node starts, so a wrong path, a mismatched key or an expired certificate stops it with the fix.</summary>
    public static KafkaTls Load(KafkaTlsSettings settings, DateTimeOffset now)
    {
        var cert = PemFiles.LoadWithKey(settings.CertificateLocation, settings.KeyLocation, "broker.kafka.ssl.certificate-location", "broker.kafka.ssl.key-location", now);
        X509Certificate2? ca = null;
        if (settings.TruststoreLocation.Length > 0)
        {
            ca = PemFiles.LoadCertificate(settings.TruststoreLocation, "broker.kafka.ssl.truststore-location");
            CertificateChains.RequireCa(ca, settings.TruststoreLocation, "broker.kafka.ssl.truststore-location");
        }
        return new KafkaTls(cert, ca, settings.ClientAuth);
    }

    /// <summary>The connection's principal after a handshake: the client certificate's CN, or ANONYMOUS without one (as Kafka names it).</summary>
    public sealed record Session(Stream Stream, string Principal);

    /// <summary>
    /// The server side of the handshake on <paramref name="network"/>; null (after a warning naming the client and the
    /// reason) when it fails: no TLS, a refused certificate, no certificate when one is required, or too slow.
    /// </summary>
    public async Task<Session?> AcceptAsync(Stream network, string remote, ILoggingAdapter log, CancellationToken ct)
    {
        string? refusal = null;
        var ssl = new SslStream(network, leaveInnerStreamOpen: false);
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificate = _certificate,
            ClientCertificateRequired = _clientAuth != KafkaClientAuth.None,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, cert, _, _) =>
            {
                refusal = CheckClient(cert as X509Certificate2 ?? (cert is null ? null : new X509Certificate2(cert)));
                return refusal is null;
            },
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(HandshakeTimeout);
        try
        {
            await ssl.AuthenticateAsServerAsync(options, timeout.Token);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            if (!ct.IsCancellationRequested)
            {
                log.Warning("kafka: TLS handshake with {0} failed: {1}", remote, refusal ?? (ex is OperationCanceledException ? $"no handshake within {HandshakeTimeout.TotalSeconds}s"
                    : $"{ex.Message} (a client speaking PLAINTEXT to this SSL listener? it needs security.protocol=SSL)"));
            }
            await ssl.DisposeAsync();
            return null;
        }
        var principal = ssl.RemoteCertificate is X509Certificate2 client ? CertificateChains.CommonName(client) : "ANONYMOUS";
        return new Session(ssl, principal);
    }

    /// <summary>Null when the client's certificate (or its absence) is acceptable, else why not.</summary>
    private string? CheckClient(X509Certificate2? cert)
    {
        if (cert is null)
        {
            return _clientAuth == KafkaClientAuth.Required ? "no client certificate, and broker.kafka.ssl.client-auth = required" : null;
        }
        if (_clientCa is null) return "a client certificate was sent but no truststore is configured (broker.kafka.ssl.truststore-location)";
        return CertificateChains.ChainProblem(cert, _clientCa) is { } problem ? $"client certificate '{cert.Subject}' {problem}" : null;
    }
}
