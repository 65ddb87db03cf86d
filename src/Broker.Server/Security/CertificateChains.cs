using System.Security.Cryptography.X509Certificates;

namespace Broker.Server.Security;

/// <summary>The outcome of checking a peer's certificate: accepted, or refused with the reason (for the log).</summary>
public abstract record PeerVerdict
{
    public sealed record Accepted(string Subject) : PeerVerdict;
    public sealed record Refused(string Reason) : PeerVerdict;
}

/// <summary>
/// Chain checks against one private CA only: <see cref="X509ChainTrustMode.CustomRootTrust"/>, so the machine's
/// trust store never vouches for anyone, and a certificate from another CA (the client CA, a public CA, a
/// self-signed one) fails however valid it is elsewhere. No revocation lists: a development CA publishes none.
/// </summary>
public static class CertificateChains
{
    /// <summary>Null when <paramref name="cert"/> chains to <paramref name="ca"/> and is valid now, else why not.</summary>
    public static string? ChainProblem(X509Certificate2 cert, X509Certificate2 ca, DateTime? at = null)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (at is { } time) chain.ChainPolicy.VerificationTime = time;
        var built = chain.Build(cert);
        if (!built)
        {
            var statuses = chain.ChainStatus.Select(s => s.Status.ToString()).Distinct();
            return $"does not chain to '{ca.Subject}' ({string.Join(", ", statuses)})";
        }
        var root = chain.ChainElements[^1].Certificate;
        return root.Thumbprint == ca.Thumbprint ? null : $"chains to '{root.Subject}', not to '{ca.Subject}'";
    }

    /// <summary>The certificate's common name, or "" when it has none.</summary>
    public static string CommonName(X509Certificate2 cert) => cert.GetNameInfo(X509NameType.SimpleName, forIssuer: false) ?? "";

    /// <summary>
    /// Whether a peer may be a member of the cluster: its certificate chains to the cluster CA and names a node
    /// (CN=node-*). Host names are not checked: a node's identity is holding a node certificate from the cluster
    /// CA, not the address it was reached at (nodes behind NAT or in containers are reached at other names).
    /// </summary>
    public static PeerVerdict CheckNode(X509Certificate2? cert, X509Certificate2 clusterCa)
    {
        if (cert is null) return new PeerVerdict.Refused("no certificate presented");
        if (ChainProblem(cert, clusterCa) is { } problem) return new PeerVerdict.Refused($"certificate '{cert.Subject}' {problem}");
        var cn = CommonName(cert);
        return cn.StartsWith(DevCertificates.NodePrefix, StringComparison.Ordinal)
            ? new PeerVerdict.Accepted(cert.Subject)
            : new PeerVerdict.Refused($"certificate '{cert.Subject}' is from the cluster CA but does not name a node (CN={DevCertificates.NodePrefix}*)");
    }

    /// <summary>Throws NotACa when <paramref name="ca"/> may not sign certificates.</summary>
    public static void RequireCa(X509Certificate2 ca, string path, string setting)
    {
        var constraints = ca.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        if (constraints is not { CertificateAuthority: true })
            throw new CertificateException(CertificateError.NotACa, $"{setting} '{path}' ({ca.Subject}) is not a CA certificate: point it at the cluster-ca.pem `broker certs create-ca` wrote");
    }
}
