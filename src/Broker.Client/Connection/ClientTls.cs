// TLS from the client's ActorSystem to a node's client door: the CA to trust, and the client's own certificate when the door requires one.
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using Broker.Protocol;

namespace Broker.Client.Connection;

/// <summary>
/// The TLS files of <see cref="ClientConfig"/> (Kafka's ssl.ca.location, ssl.certificate.location, ssl.key.location),
/// loaded once for the process's shared ActorSystem. The door's certificate must chain to <see cref="CaLocation"/>;
/// host names are not checked (a door presents its node's certificate, issued to a node name, not to a host).
/// Akka.NET 1.5.73 (DotNettyTransport) needs no certificate on a client that does not require mutual authentication:
/// the client system's own listener is never reached (the door answers over the client's connection). A failed
/// handshake of ours is remembered (<see cref="Problem"/>) so the request that needed the door fails naming the fix.
/// </summary>
internal sealed class ClientTls
{
    private ClientTls(string caLocation, string? certificateLocation, string? keyLocation)
    {
        CaLocation = caLocation;
        CertificateLocation = certificateLocation;
        KeyLocation = keyLocation;
    }

    public string CaLocation { get; }

    public string? CertificateLocation { get; }

    public string? KeyLocation { get; }

    /// <summary>Whether <paramref name="other"/> names the same files (clients of one process share one system, so one TLS setting).</summary>
    public bool SameFiles(ClientTls? other) =>
        other is not null && other.CaLocation == CaLocation && other.CertificateLocation == CertificateLocation && other.KeyLocation == KeyLocation;

    public override string ToString() => CertificateLocation is null ? $"TLS trusting {CaLocation}" : $"TLS trusting {CaLocation} with {CertificateLocation}";

    private X509Certificate2? _ca;
    private X509Certificate2? _certificate;
    private volatile string? _problem;
    private long _problemAt;

    /// <summary>TLS settings from a client config; null when it sets no CA (plain TCP). Throws InvalidConfig for half-set files.</summary>
    public static ClientTls? From(ClientConfig config)
    {
        if (string.IsNullOrEmpty(config.SslCaLocation))
        {
            return string.IsNullOrEmpty(config.SslCertificateLocation) && string.IsNullOrEmpty(config.SslKeyLocation) ? null
                : throw new BrokerException(ErrorCode.InvalidConfig, "SslCertificateLocation/SslKeyLocation are set but SslCaLocation is not: set SslCaLocation (ssl.ca.location) to the CA that issued the door's certificate to use TLS");
        }
        if (string.IsNullOrEmpty(config.SslCertificateLocation) != string.IsNullOrEmpty(config.SslKeyLocation))
            throw new BrokerException(ErrorCode.InvalidConfig, "SslCertificateLocation and SslKeyLocation (ssl.certificate.location, ssl.key.location) go together: set both or neither");
        return new ClientTls(config.SslCaLocation, NullIfEmpty(config.SslCertificateLocation), NullIfEmpty(config.SslKeyLocation));
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>The address scheme of a TLS door.</summary>
    public const string Scheme = "akka.ssl.tcp";

    /// <summary>Reads the files; throws InvalidConfig naming the file when one cannot be used.</summary>
    public void Load()
    {
        try
        {
            _ca = X509Certificate2.CreateFromPem(File.ReadAllText(CaLocation));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new BrokerException(ErrorCode.InvalidConfig, $"SslCaLocation (ssl.ca.location) '{CaLocation}': {e.Message}; give the PEM certificate of the CA that issued the door's certificate");
        }
        if (CertificateLocation is null) return;
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(CertificateLocation, KeyLocation);
            // Re-imported so the key is usable by SslStream on every platform (an ephemeral PEM key is not on Windows).
            _certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new BrokerException(ErrorCode.InvalidConfig, $"SslCertificateLocation/SslKeyLocation (ssl.certificate.location, ssl.key.location) '{CertificateLocation}', '{KeyLocation}': {e.Message}");
        }
    }

    /// <summary>Akka settings that go with <see cref="Setup"/>; a failed handshake must not stop the shared system (see the server's ClientDoorTls).</summary>
    public Config AkkaConfig => ConfigurationFactory.ParseString($$"""
        akka.remote.dot-netty.tcp {
          enable-ssl = on
          ssl {
            suppress-validation = off
            require-mutual-authentication = {{(_certificate is null ? "off" : "on")}}
            validate-certificate-hostname = off
          }
        }
        akka.coordinated-shutdown {
          run-by-actor-system-terminate = off
          terminate-actor-system = off
        }
        """);

    /// <summary>Hands Akka.Remote this client's certificate (none unless set) and <see cref="Validate"/>.</summary>
    public DotNettySslSetup Setup() => new(_certificate!, suppressValidation: false, requireMutualAuthentication: _certificate is not null, validateCertificateHostname: false, Validate);

    /// <summary>Why the last TLS handshake since <paramref name="sinceTicks"/> (Environment.TickCount64) failed, or null.</summary>
    public string? Problem(long sinceTicks) => Interlocked.Read(ref _problemAt) >= sinceTicks ? _problem : null;

    /// <summary>Called by the client's logger for Akka's "TLS handshake failed" error: the door closed the handshake after we accepted its certificate.</summary>
    public void HandshakeFailed(string detail)
    {
        if (_problem is not null && Environment.TickCount64 - Interlocked.Read(ref _problemAt) < 1000) return; // our refusal, just reported
        Remember(_certificate is null
            ? $"the TLS handshake with the door failed ({detail}); a door with broker.client-door.tls.client-auth = required needs a client certificate: set SslCertificateLocation and SslKeyLocation (ssl.certificate.location, ssl.key.location) to one issued by the door's client-ca"
            : $"the TLS handshake with the door failed ({detail}); the door may have refused this client's certificate '{_certificate.Subject}': use one issued by the door's broker.client-door.tls.client-ca");
    }

    private void Remember(string problem)
    {
        _problem = problem;
        Interlocked.Exchange(ref _problemAt, Environment.TickCount64);
    }

    private bool Validate(X509Certificate2? certificate, X509Chain? chain, string remotePeer, SslPolicyErrors errors, ILoggingAdapter log)
    {
        if (certificate is null)
        {
            Remember($"the door at {remotePeer} presented no certificate");
            return false;
        }
        using var own = new X509Chain();
        own.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        own.ChainPolicy.CustomTrustStore.Add(_ca!);
        own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        own.ChainPolicy.DisableCertificateDownloads = true;
        if (own.Build(certificate) && own.ChainElements[^1].Certificate.Thumbprint == _ca!.Thumbprint) return true;
        var statuses = string.Join(", ", own.ChainStatus.Select(s => s.Status.ToString()).Distinct());
        Remember($"the door's certificate '{certificate.Subject}' (issued by '{certificate.Issuer}') does not chain to the CA in SslCaLocation (ssl.ca.location) '{CaLocation}', '{_ca!.Subject}' ({statuses}): trust the CA that issued the door's certificate");
        return false;
    }
}
