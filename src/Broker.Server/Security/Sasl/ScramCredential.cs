using System.Security.Cryptography;
using System.Text;

namespace Broker.Server.Security.Sasl;

/// <summary>The SCRAM hash functions Kafka offers (RFC 7677 SHA-256, and SHA-512).</summary>
public enum ScramMechanism
{
    Sha256,
    Sha512,
}

/// <summary>
/// A user's SCRAM credential as RFC 5802 stores it: salt, iterations, StoredKey = H(ClientKey) and ServerKey, never the
/// password. PLAIN logins are checked against the same credential.
/// </summary>
public sealed record ScramCredential(ScramMechanism Mechanism, byte[] Salt, int Iterations, byte[] StoredKey, byte[] ServerKey)
{
    /// <summary>Kafka's minimum (and ours): 4096 iterations.</summary>
    public const int MinIterations = 4096;

    public static string Name(ScramMechanism mechanism) => mechanism == ScramMechanism.Sha256 ? "SCRAM-SHA-256" : "SCRAM-SHA-512";

    public static ScramMechanism? Parse(string name) => name switch
    {
        "SCRAM-SHA-256" => ScramMechanism.Sha256,
        "SCRAM-SHA-512" => ScramMechanism.Sha512,
        _ => null,
    };

    /// <summary>Derives the credential for <paramref name="password"/> with a new random salt.</summary>
    public static ScramCredential Create(ScramMechanism mechanism, string password, int iterations = MinIterations)
    {
        if (iterations < MinIterations) throw new ArgumentException($"SCRAM iterations must be at least {MinIterations}, got {iterations}", nameof(iterations));
        var salt = RandomNumberGenerator.GetBytes(32);
        var salted = SaltedPassword(mechanism, password, salt, iterations);
        return new ScramCredential(mechanism, salt, iterations, Hash(mechanism, Hmac(mechanism, salted, "Client Key"u8)), Hmac(mechanism, salted, "Server Key"u8));
    }

    /// <summary>The credential from a salted password a client derived itself (Kafka's AlterUserScramCredentials): the password never travels.</summary>
    public static ScramCredential FromSaltedPassword(ScramMechanism mechanism, byte[] salt, int iterations, byte[] salted) =>
        new(mechanism, salt, iterations, Hash(mechanism, Hmac(mechanism, salted, "Client Key"u8)), Hmac(mechanism, salted, "Server Key"u8));

    /// <summary>Whether <paramref name="password"/> is the one this credential was made from (PLAIN), in constant time.</summary>
    public bool Matches(string password)
    {
        var salted = SaltedPassword(Mechanism, password, Salt, Iterations);
        return CryptographicOperations.FixedTimeEquals(Hash(Mechanism, Hmac(Mechanism, salted, "Client Key"u8)), StoredKey);
    }

    internal static byte[] SaltedPassword(ScramMechanism mechanism, string password, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, Algorithm(mechanism), Length(mechanism));

    internal static byte[] Hmac(ScramMechanism mechanism, byte[] key, ReadOnlySpan<byte> data) =>
        mechanism == ScramMechanism.Sha256 ? HMACSHA256.HashData(key, data) : HMACSHA512.HashData(key, data);

    internal static byte[] Hash(ScramMechanism mechanism, byte[] data) =>
        mechanism == ScramMechanism.Sha256 ? SHA256.HashData(data) : SHA512.HashData(data);

    private static HashAlgorithmName Algorithm(ScramMechanism mechanism) => mechanism == ScramMechanism.Sha256 ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA512;

    private static int Length(ScramMechanism mechanism) => mechanism == ScramMechanism.Sha256 ? 32 : 64;
}

/// <summary>
/// Where SCRAM credentials come from. The in-memory store serves development and tests; the replicated store (in the
/// metadata quorum, with `broker users` and AlterUserScramCredentials) comes with the quorum work.
/// </summary>
public interface ICredentialStore
{
    ScramCredential? Find(string user, ScramMechanism mechanism);
}

/// <summary>Credentials held in this process only; lost at restart.</summary>
public sealed class InMemoryCredentialStore : ICredentialStore
{
    private readonly Dictionary<(string, ScramMechanism), ScramCredential> _credentials = [];

    /// <summary>Adds (or replaces) the user's credential for every SCRAM mechanism, derived from <paramref name="password"/>.</summary>
    public InMemoryCredentialStore Add(string user, string password, int iterations = ScramCredential.MinIterations)
    {
        foreach (var mechanism in Enum.GetValues<ScramMechanism>()) _credentials[(user, mechanism)] = ScramCredential.Create(mechanism, password, iterations);
        return this;
    }

    public ScramCredential? Find(string user, ScramMechanism mechanism) => _credentials.GetValueOrDefault((user, mechanism));
}
