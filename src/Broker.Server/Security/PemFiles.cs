using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Broker.Server.Security;

/// <summary>
/// Reads and writes the PEM files `broker certs` makes and a node is configured with, turning every way they can be
/// wrong into a <see cref="CertificateException"/> that names the file and the fix.
/// </summary>
public static class PemFiles
{
    /// <summary>A certificate without its key (a CA a peer must chain to).</summary>
    public static X509Certificate2 LoadCertificate(string path, string setting)
    {
        var text = ReadText(path, setting);
        try
        {
            return X509Certificate2.CreateFromPem(text);
        }
        catch (CryptographicException ex)
        {
            throw new CertificateException(CertificateError.NotPem,
                $"{setting} '{path}' holds no PEM certificate ({ex.Message}): point it at a file that starts with '-----BEGIN CERTIFICATE-----', such as one `broker certs` wrote");
        }
    }

    /// <summary>
    /// A certificate with its private key, checked to belong together and to be valid at <paramref name="now"/>. The
    /// result is re-imported through PKCS#12, so TLS stacks that need a persisted key (SslStream as a server) accept it.
    /// </summary>
    public static X509Certificate2 LoadWithKey(string certPath, string keyPath, string certSetting, string keySetting, DateTimeOffset now)
    {
        using var cert = LoadCertificate(certPath, certSetting);
        var keyText = ReadText(keyPath, keySetting);
        using var key = ImportKey(cert, keyText)
            ?? throw new CertificateException(CertificateError.NotPem,
                $"{keySetting} '{keyPath}' holds no PEM private key of the certificate's kind: point it at the .key file written beside '{certPath}'");
        X509Certificate2 paired;
        try
        {
            paired = key is ECDsa ec ? cert.CopyWithPrivateKey(ec) : cert.CopyWithPrivateKey((RSA)key);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            throw new CertificateException(CertificateError.KeyMismatch,
                $"{keySetting} '{keyPath}' is not the private key of {certSetting} '{certPath}' ({cert.Subject}): use the .key file written together with that certificate");
        }
        using (paired)
        {
            CheckValidity(paired, certPath, certSetting, now);
            return X509CertificateLoader.LoadPkcs12(paired.Export(X509ContentType.Pkcs12), password: null, X509KeyStorageFlags.Exportable);
        }
    }

    /// <summary>Throws Expired or NotYetValid, naming the dates and how to get a new certificate.</summary>
    public static void CheckValidity(X509Certificate2 cert, string path, string setting, DateTimeOffset now)
    {
        if (now.UtcDateTime > cert.NotAfter.ToUniversalTime())
        {
            throw new CertificateException(CertificateError.Expired,
                $"{setting} '{path}' ({cert.Subject}) expired on {cert.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC: issue a new one (`broker certs node NAME` or `broker certs client NAME`)");
        }
        if (now.UtcDateTime < cert.NotBefore.ToUniversalTime())
        {
            throw new CertificateException(CertificateError.NotYetValid,
                $"{setting} '{path}' ({cert.Subject}) is not valid before {cert.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} UTC: check this machine's clock, or issue the certificate again");
        }
    }

    /// <summary>Writes the certificate (and, when given, its key) as PEM; refuses to overwrite unless <paramref name="overwrite"/>.</summary>
    public static void Write(X509Certificate2 cert, string certPath, string? keyPath, bool overwrite)
    {
        Refuse(certPath, overwrite);
        if (keyPath is not null) Refuse(keyPath, overwrite);
        File.WriteAllText(certPath, cert.ExportCertificatePem() + "\n");
        if (keyPath is null) return;
        var key = (AsymmetricAlgorithm?)cert.GetECDsaPrivateKey() ?? cert.GetRSAPrivateKey()
            ?? throw new InvalidOperationException($"certificate {cert.Subject} has no private key to write");
        using (key)
        {
            WritePrivate(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        }
    }

    /// <summary>Writes the certificate, its key and the issuing CA as one PKCS#12 file (Java key stores, Windows).</summary>
    public static void WritePkcs12(X509Certificate2 cert, X509Certificate2 ca, string path, string password, bool overwrite)
    {
        Refuse(path, overwrite);
        var collection = new X509Certificate2Collection { cert, X509CertificateLoader.LoadCertificate(ca.RawData) };
        var bytes = collection.Export(X509ContentType.Pkcs12, password)
            ?? throw new InvalidOperationException("PKCS#12 export returned nothing");
        File.WriteAllBytes(path, bytes);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>The key in <paramref name="keyText"/> of the certificate's algorithm (ECDSA or RSA), or null when there is none.</summary>
    private static AsymmetricAlgorithm? ImportKey(X509Certificate2 cert, string keyText)
    {
        AsymmetricAlgorithm key = cert.GetKeyAlgorithm() == "1.2.840.10045.2.1" ? ECDsa.Create() : RSA.Create();
        try
        {
            key.ImportFromPem(keyText);
            return key;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            return null;
        }
    }

    private static string ReadText(string path, string setting)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new CertificateException(CertificateError.FileNotFound, $"{setting} is not set: give the path of a PEM file (`broker certs --help` makes them)");
        if (!File.Exists(path))
            throw new CertificateException(CertificateError.FileNotFound, $"{setting} '{path}' does not exist (resolved to '{Path.GetFullPath(path)}'): fix the path, or make the file with `broker certs`");
        return File.ReadAllText(path);
    }

    private static void Refuse(string path, bool overwrite)
    {
        if (!overwrite && File.Exists(path))
            throw new CertificateException(CertificateError.AlreadyExists, $"'{path}' already exists: choose another --dir, delete it, or pass --force to overwrite it");
    }

    private static void WritePrivate(string path, string text)
    {
        File.WriteAllText(path, text);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
