namespace Broker.Server.Security.Sasl;

/// <summary>The outcome of a password login: the principal it logs in, or why it was refused.</summary>
public abstract record LoginOutcome
{
    private LoginOutcome()
    {
    }

    /// <summary>The password is the user's: the caller acts as <paramref name="Principal"/> (<c>User:NAME</c>).</summary>
    public sealed record LoggedIn(string Principal) : LoginOutcome;

    /// <summary>Unknown user or wrong password (the message does not say which, so it does not reveal who exists).</summary>
    public sealed record Refused(string Message) : LoginOutcome;
}

/// <summary>
/// The native client door's login: a user name and password checked against the same SCRAM credentials as the Kafka
/// listener's SASL (the replicated users, then the bootstrap users). The password is salted with the credential's salt
/// and iterations; the login succeeds when H(HMAC(SaltedPassword, "Client Key")) equals the stored StoredKey (RFC 5802),
/// compared in constant time. An unknown user costs the same PBKDF2 as a known one. Pure: no actor, no I/O.
/// </summary>
public static class PasswordLogin
{
    private static readonly ScramCredential Decoy = ScramCredential.Create(ScramMechanism.Sha512, Guid.NewGuid().ToString("N"));

    public static LoginOutcome Check(ICredentialStore credentials, string user, string password)
    {
        var credential = string.IsNullOrEmpty(user) ? null : credentials.Find(user, ScramMechanism.Sha512) ?? credentials.Find(user, ScramMechanism.Sha256);
        var matches = (credential ?? Decoy).Matches(password ?? "");
        if (credential is not null && matches) return new LoginOutcome.LoggedIn("User:" + user);
        return new LoginOutcome.Refused(
            $"login as '{user}' failed: unknown user or wrong password; check the client's Username and Password (CLI: sasl.username and sasl.password in --command-config), "
            + "or add the user with `broker users add`");
    }
}
