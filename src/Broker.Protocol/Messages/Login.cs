namespace Broker.Protocol.Messages;

// The native client door's login (docs/security.md, "The native client door"). A node whose client door requires a
// login answers every other request sent to its /user/gateway with AuthenticationFailed.

/// <summary>
/// Logs in to a node's client door with a user's password, checked against the user's SCRAM credential (the same
/// users as the Kafka listener's SASL). Send it only over TLS: the password travels in this message.
/// </summary>
public sealed record LoginRequest(string Username, string Password) : IBrokerRequest
{
    /// <summary>Never prints the password.</summary>
    public override string ToString() => $"LoginRequest {{ Username = {Username} }}";
}

/// <summary>
/// On success, <paramref name="Session"/> names the session actor under the door's gateway
/// (<c>/user/gateway/SESSION</c>) to which the client sends its requests; it acts as the logged-in user. The name
/// is random and unguessable, and the session ends when the client disconnects or stays idle.
/// </summary>
public sealed record LoginResponse(ErrorCode Error, string? ErrorMessage, string Session) : IBrokerResponse;
