using System.Security.Cryptography;
using System.Text;
using Akka.Configuration;
using Broker.Server.Security.Sasl;
using Xunit;

namespace Broker.Server.Tests.Security;

/// <summary>The server side of PLAIN and SCRAM-SHA-256/512 (RFC 5802), driven by a client written from the RFC.</summary>
public sealed class SaslAuthenticatorTests
{
    private static readonly InMemoryCredentialStore Store = new InMemoryCredentialStore().Add("alice", "alice-secret").Add("bo,b=", "bob-secret");
    private static readonly string[] All = ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"];

    private static SaslAuthenticator Authenticator(string mechanism)
    {
        var sasl = new SaslAuthenticator(Store, All);
        Assert.True(sasl.Handshake(mechanism));
        return sasl;
    }

    /// <summary>A SCRAM client per RFC 5802: the final step's result, and whether the server's signature checked out.</summary>
    private static (SaslStep Step, bool ServerVerified) Scram(string mechanismName, string user, string password, Func<string, string>? tamperFinal = null, bool repeatClientNonce = false)
    {
        var mechanism = ScramCredential.Parse(mechanismName)!.Value;
        var sasl = Authenticator(mechanismName);
        var clientNonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        var bare = $"n={user.Replace("=", "=3D").Replace(",", "=2C")},r={clientNonce}";
        var first = sasl.Authenticate(Encoding.UTF8.GetBytes("n,," + bare));
        if (first is not SaslStep.Continue challenge) return (first, false);
        var serverFirst = Encoding.UTF8.GetString(challenge.Challenge);
        var attrs = serverFirst.Split(',').ToDictionary(p => p[0], p => p[2..]);
        Assert.StartsWith(clientNonce, attrs['r']);
        var salted = mechanism == ScramMechanism.Sha256
            ? Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Convert.FromBase64String(attrs['s']), int.Parse(attrs['i'], System.Globalization.CultureInfo.InvariantCulture), HashAlgorithmName.SHA256, 32)
            : Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Convert.FromBase64String(attrs['s']), int.Parse(attrs['i'], System.Globalization.CultureInfo.InvariantCulture), HashAlgorithmName.SHA512, 64);
        byte[] Hmac(byte[] key, byte[] data) => mechanism == ScramMechanism.Sha256 ? HMACSHA256.HashData(key, data) : HMACSHA512.HashData(key, data);
        var clientKey = Hmac(salted, "Client Key"u8.ToArray());
        var storedKey = mechanism == ScramMechanism.Sha256 ? SHA256.HashData(clientKey) : SHA512.HashData(clientKey);
        var withoutProof = $"c=biws,r={(repeatClientNonce ? clientNonce : "")}{attrs['r']}";
        var authMessage = Encoding.UTF8.GetBytes($"{bare},{serverFirst},{withoutProof}");
        var signature = Hmac(storedKey, authMessage);
        var proof = clientKey.Select((b, i) => (byte)(b ^ signature[i])).ToArray();
        var final = $"{withoutProof},p={Convert.ToBase64String(proof)}";
        var step = sasl.Authenticate(Encoding.UTF8.GetBytes(tamperFinal?.Invoke(final) ?? final));
        var expected = "v=" + Convert.ToBase64String(Hmac(Hmac(salted, "Server Key"u8.ToArray()), authMessage));
        return (step, step is SaslStep.Done done && Encoding.UTF8.GetString(done.Final) == expected);
    }

    [Theory]
    [InlineData("SCRAM-SHA-256")]
    [InlineData("SCRAM-SHA-512")]
    public void SCRAM_with_the_right_password_authenticates_and_the_server_proves_it_knows_the_key(string mechanism)
    {
        var (step, verified) = Scram(mechanism, "alice", "alice-secret");
        Assert.Equal("alice", Assert.IsType<SaslStep.Done>(step).Principal);
        Assert.True(verified);
    }

    [Fact]
    public void SCRAM_user_names_with_comma_and_equals_are_unescaped() =>
        Assert.Equal("bo,b=", Assert.IsType<SaslStep.Done>(Scram("SCRAM-SHA-512", "bo,b=", "bob-secret").Step).Principal);

    [Fact]
    public void SCRAM_with_a_wrong_password_fails() =>
        Assert.Contains("invalid user name or password", Assert.IsType<SaslStep.Failed>(Scram("SCRAM-SHA-512", "alice", "guess").Step).Message);

    [Fact]
    public void SCRAM_for_an_unknown_user_gets_a_challenge_then_fails_like_a_wrong_password() =>
        Assert.Contains("invalid user name or password", Assert.IsType<SaslStep.Failed>(Scram("SCRAM-SHA-256", "mallory", "x").Step).Message);

    [Fact]
    public void SCRAM_with_a_replayed_or_changed_nonce_fails() =>
        Assert.Contains("nonce", Assert.IsType<SaslStep.Failed>(Scram("SCRAM-SHA-256", "alice", "alice-secret", f => f.Replace(",p=", "x,p=")).Step).Message);

    [Fact]
    public void SCRAM_accepts_librdkafkas_final_nonce_with_the_client_nonce_repeated_in_front() =>
        Assert.IsType<SaslStep.Done>(Scram("SCRAM-SHA-512", "alice", "alice-secret", repeatClientNonce: true).Step);

    [Fact]
    public void SCRAM_with_channel_binding_is_refused()
    {
        var sasl = Authenticator("SCRAM-SHA-256");
        Assert.IsType<SaslStep.Failed>(sasl.Authenticate("p=tls-unique,,n=alice,r=abc"u8.ToArray()));
    }

    [Fact]
    public void PLAIN_checks_the_password_against_the_SCRAM_credential()
    {
        Assert.Equal("alice", Assert.IsType<SaslStep.Done>(Authenticator("PLAIN").Authenticate("\0alice\0alice-secret"u8.ToArray())).Principal);
        Assert.IsType<SaslStep.Failed>(Authenticator("PLAIN").Authenticate("\0alice\0wrong"u8.ToArray()));
        Assert.IsType<SaslStep.Failed>(Authenticator("PLAIN").Authenticate("\0nobody\0x"u8.ToArray()));
        Assert.IsType<SaslStep.Failed>(Authenticator("PLAIN").Authenticate("bob\0alice\0alice-secret"u8.ToArray()));
    }

    [Fact]
    public void A_mechanism_that_is_not_enabled_is_refused_at_handshake() =>
        Assert.False(new SaslAuthenticator(Store, ["SCRAM-SHA-512"]).Handshake("PLAIN"));

    [Fact]
    public void Authenticate_before_handshake_fails() =>
        Assert.IsType<SaslStep.Failed>(new SaslAuthenticator(Store, All).Authenticate("\0alice\0alice-secret"u8.ToArray()));

    [Fact]
    public void The_store_keeps_salted_keys_with_at_least_4096_iterations_never_the_password()
    {
        var credential = Store.Find("alice", ScramMechanism.Sha512)!;
        Assert.True(credential.Iterations >= 4096);
        Assert.Equal(64, credential.StoredKey.Length);
        Assert.DoesNotContain("alice-secret", Convert.ToBase64String(credential.StoredKey));
        Assert.Throws<ArgumentException>(() => ScramCredential.Create(ScramMechanism.Sha256, "x", iterations: 1000));
    }

    [Fact]
    public void Settings_read_mechanisms_and_development_users_for_SASL_protocols_only()
    {
        Assert.Null(KafkaSaslSettings.Create(ConfigurationFactory.ParseString("security-protocol = SSL")));
        var settings = KafkaSaslSettings.Create(ConfigurationFactory.ParseString("security-protocol = SASL_SSL, sasl { enabled-mechanisms = [PLAIN], dev-users { carol = \"pw\" } }"))!;
        Assert.Equal(["PLAIN"], settings.EnabledMechanisms);
        Assert.True(settings.Credentials.Find("carol", ScramMechanism.Sha512)!.Matches("pw"));
        Assert.Throws<ConfigurationException>(() => KafkaSaslSettings.Create(ConfigurationFactory.ParseString("security-protocol = SASL_SSL, sasl.enabled-mechanisms = [GSSAPI]")));
    }
}
