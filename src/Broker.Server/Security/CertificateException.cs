namespace Broker.Server.Security;

/// <summary>What is wrong with a certificate, key or CA file: each case has a message that names the fix.</summary>
public enum CertificateError
{
    /// <summary>The file named in the configuration or on the command line does not exist.</summary>
    FileNotFound,
    /// <summary>The file exists but holds no PEM certificate or key of the expected kind.</summary>
    NotPem,
    /// <summary>The private key is not the one the certificate was issued for.</summary>
    KeyMismatch,
    /// <summary>The certificate's validity ended.</summary>
    Expired,
    /// <summary>The certificate's validity has not started yet (a clock that is behind, or a certificate from the future).</summary>
    NotYetValid,
    /// <summary>The certificate does not chain to the CA it must come from.</summary>
    NotIssuedByCa,
    /// <summary>The file meant to be a CA holds a certificate that may not sign others.</summary>
    NotACa,
    /// <summary>A node certificate whose subject is not CN=node-*, or a client certificate named like a node.</summary>
    WrongSubject,
    /// <summary>Writing would overwrite an existing file.</summary>
    AlreadyExists,
    /// <summary>A name that cannot be a certificate's common name.</summary>
    InvalidName,
}

/// <summary>
/// A certificate, key or CA that cannot be used, with a message naming the fix. An <see cref="InvalidOperationException"/>,
/// so the CLI and node start report it as one line like any other configuration problem.
/// </summary>
public sealed class CertificateException(CertificateError error, string message) : InvalidOperationException(message)
{
    public CertificateError Error { get; } = error;
}
