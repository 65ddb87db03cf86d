namespace Broker.Server.Security;

/// <summary>
/// The files of a development CA directory, as `broker certs` lays them out: cluster-ca.pem/.key (issues node
/// certificates), client-ca.pem/.key (issues client certificates), node-NAME.pem/.key and client-NAME.pem/.key, with
/// an optional .p12 beside each issued pair. The CA keys never leave this directory: copy only the .pem of a CA and a
/// node's own pair to a node.
/// </summary>
public sealed class CertificateFiles(string directory, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public string Directory { get; } = directory;
    public string ClusterCa => Path.Combine(Directory, "cluster-ca.pem");
    public string ClusterCaKey => Path.Combine(Directory, "cluster-ca.key");
    public string ClientCa => Path.Combine(Directory, "client-ca.pem");
    public string ClientCaKey => Path.Combine(Directory, "client-ca.key");

    /// <summary>The files one issued certificate is written to.</summary>
    public sealed record Issued(string Subject, string Certificate, string Key, string? Pkcs12, DateTime NotAfter);

    /// <summary>Writes a new cluster CA and a new client CA; returns their certificate paths.</summary>
    public IReadOnlyList<string> CreateCas(TimeSpan validity, bool overwrite)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var now = _clock.GetUtcNow();
        using var cluster = DevCertificates.CreateCa("broker cluster CA", validity, now);
        using var client = DevCertificates.CreateCa("broker client CA", validity, now);
        if (!overwrite && new[] { ClusterCa, ClusterCaKey, ClientCa, ClientCaKey }.FirstOrDefault(File.Exists) is { } existing)
        {
            throw new CertificateException(CertificateError.AlreadyExists,
                $"'{existing}' already exists: a new CA would orphan every certificate it issued; choose another --dir, or pass --force to replace it");
        }
        PemFiles.Write(cluster, ClusterCa, ClusterCaKey, overwrite: true);
        PemFiles.Write(client, ClientCa, ClientCaKey, overwrite: true);
        return [ClusterCa, ClientCa];
    }

    /// <summary>Issues node-NAME.pem/.key from the cluster CA, valid for the given host names and IP addresses.</summary>
    public Issued IssueNode(string name, IReadOnlyList<string> hosts, TimeSpan validity, string? pkcs12Password, bool overwrite)
    {
        var commonName = DevCertificates.NodeCommonName(name);
        using var ca = LoadCa(ClusterCa, ClusterCaKey, "cluster CA");
        using var cert = DevCertificates.IssueNode(ca, name, hosts, validity, _clock.GetUtcNow());
        return Write(cert, ca, commonName, pkcs12Password, overwrite);
    }

    /// <summary>Issues client-NAME.pem/.key (CN=NAME) from the client CA.</summary>
    public Issued IssueClient(string name, TimeSpan validity, string? pkcs12Password, bool overwrite)
    {
        using var ca = LoadCa(ClientCa, ClientCaKey, "client CA");
        using var cert = DevCertificates.IssueClient(ca, name, validity, _clock.GetUtcNow());
        return Write(cert, ca, "client-" + name, pkcs12Password, overwrite);
    }

    private Issued Write(System.Security.Cryptography.X509Certificates.X509Certificate2 cert, System.Security.Cryptography.X509Certificates.X509Certificate2 ca,
        string fileName, string? pkcs12Password, bool overwrite)
    {
        var certPath = Path.Combine(Directory, fileName + ".pem");
        var keyPath = Path.Combine(Directory, fileName + ".key");
        PemFiles.Write(cert, certPath, keyPath, overwrite);
        string? p12 = null;
        if (pkcs12Password is not null)
        {
            p12 = Path.Combine(Directory, fileName + ".p12");
            PemFiles.WritePkcs12(cert, ca, p12, pkcs12Password, overwrite);
        }
        return new Issued(cert.Subject, certPath, keyPath, p12, cert.NotAfter.ToUniversalTime());
    }

    private System.Security.Cryptography.X509Certificates.X509Certificate2 LoadCa(string certPath, string keyPath, string what)
    {
        if (!File.Exists(certPath))
            throw new CertificateException(CertificateError.FileNotFound, $"no {what} in '{Directory}' ('{certPath}' does not exist): run `broker certs create-ca --dir {Directory}` first, or pass the --dir it wrote to");
        var ca = PemFiles.LoadWithKey(certPath, keyPath, what, what + " key", _clock.GetUtcNow());
        CertificateChains.RequireCa(ca, certPath, what);
        return ca;
    }
}
