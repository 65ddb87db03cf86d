using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Broker.Server.Security;

/// <summary>
/// A development certificate authority made with .NET's <see cref="CertificateRequest"/> (no openssl): the cluster CA
/// that issues node certificates (CN=node-NAME, server and client authentication, for mutual TLS between nodes and on
/// the Kafka listener) and a distinct client CA that issues client certificates (CN=NAME, client authentication), so
/// a client certificate can never pass as a node. ECDSA P-256 keys, which every TLS stack here (SslStream, librdkafka's
/// OpenSSL) accepts.
/// </summary>
public static class DevCertificates
{
    /// <summary>The common-name prefix every node certificate has, and the cluster's TLS validator requires.</summary>
    public const string NodePrefix = "node-";

    public static X509Certificate2 CreateCa(string commonName, TimeSpan validity, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={commonName}, O=broker"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return request.CreateSelfSigned(now.AddMinutes(-5), now.Add(validity));
    }

    /// <summary>A node certificate: CN=node-NAME, usable as TLS server and client, with the given DNS names and IP addresses.</summary>
    public static X509Certificate2 IssueNode(X509Certificate2 clusterCa, string name, IReadOnlyList<string> hosts, TimeSpan validity, DateTimeOffset now) =>
        Issue(clusterCa, NodeCommonName(name), hosts, serverAuth: true, validity, now);

    /// <summary>A client certificate: CN=NAME (the principal), usable as a TLS client only.</summary>
    public static X509Certificate2 IssueClient(X509Certificate2 clientCa, string name, TimeSpan validity, DateTimeOffset now)
    {
        CheckName(name);
        if (name.StartsWith(NodePrefix, StringComparison.Ordinal))
            throw new CertificateException(CertificateError.WrongSubject, $"client name '{name}' starts with '{NodePrefix}', which names nodes: choose another name (the principal is the name as given)");
        return Issue(clientCa, name, [], serverAuth: false, validity, now);
    }

    /// <summary>CN of a node's certificate: node-NAME (NAME alone when it already starts with node-).</summary>
    public static string NodeCommonName(string name)
    {
        CheckName(name);
        return name.StartsWith(NodePrefix, StringComparison.Ordinal) ? name : NodePrefix + name;
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string commonName, IReadOnlyList<string> hosts, bool serverAuth, TimeSpan validity, DateTimeOffset now)
    {
        using var caKey = ca.GetECDsaPrivateKey()
            ?? throw new CertificateException(CertificateError.NotPem, $"the CA certificate '{ca.Subject}' has no ECDSA private key loaded: pass the CA's key file made by `broker certs create-ca`");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={commonName}, O=broker"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, critical: true));
        var usages = new OidCollection { new Oid("1.3.6.1.5.5.7.3.2", "Client Authentication") };
        if (serverAuth) usages.Add(new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication"));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        if (hosts.Count > 0)
        {
            var names = new SubjectAlternativeNameBuilder();
            foreach (var host in hosts)
            {
                if (IPAddress.TryParse(host, out var ip)) names.AddIpAddress(ip);
                else names.AddDnsName(host);
            }
            request.CertificateExtensions.Add(names.Build());
        }
        var notAfter = now.Add(validity);
        if (notAfter > ca.NotAfter) notAfter = ca.NotAfter;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var issued = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), now.AddMinutes(-5), notAfter, serial);
        return issued.CopyWithPrivateKey(key);
    }

    private static void CheckName(string name)
    {
        if (name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new CertificateException(CertificateError.InvalidName, $"'{name}' cannot be a certificate name: use 1 to 64 letters, digits, '-', '_' or '.'");
    }
}
