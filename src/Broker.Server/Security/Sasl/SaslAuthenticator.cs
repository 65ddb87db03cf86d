using System.Security.Cryptography;
using System.Text;

namespace Broker.Server.Security.Sasl;

/// <summary>One SaslAuthenticate round's answer: an error (the connection then closes, as Kafka does), or bytes and, once done, the principal.</summary>
public abstract record SaslStep
{
    /// <summary>More rounds to come (SCRAM's server-first message).</summary>
    public sealed record Continue(byte[] Challenge) : SaslStep;
    /// <summary>Authenticated as <paramref name="Principal"/>; <paramref name="Final"/> is the last server message (SCRAM's server signature, empty for PLAIN).</summary>
    public sealed record Done(string Principal, byte[] Final) : SaslStep;
    /// <summary>Refused; the message never says whether the user exists.</summary>
    public sealed record Failed(string Message) : SaslStep;
}

/// <summary>
/// The server side of one connection's SASL exchange (Kafka's SaslHandshake v1 then SaslAuthenticate), with a fixed
/// set of enabled mechanisms: PLAIN (RFC 4616) and SCRAM-SHA-256/512 (RFC 5802/7677), both against
/// <see cref="ICredentialStore"/>. States: AwaitingHandshake -> Handshaken(mechanism) -> [ScramFirstSent] -> Authenticated
/// (or Failed). Channel binding and SCRAM extensions (Kafka's delegation tokens) are not supported.
/// </summary>
public sealed class SaslAuthenticator(ICredentialStore credentials, IReadOnlyList<string> enabledMechanisms)
{
    private string? _mechanism;
    private ScramExchange? _scram;

    public IReadOnlyList<string> EnabledMechanisms => enabledMechanisms;
    public string? Principal { get; private set; }
    public bool IsAuthenticated => Principal is not null;

    /// <summary>SaslHandshake: chooses the mechanism; false when it is not enabled (UNSUPPORTED_SASL_MECHANISM).</summary>
    public bool Handshake(string mechanism)
    {
        if (!enabledMechanisms.Contains(mechanism)) return false;
        _mechanism = mechanism;
        return true;
    }

    /// <summary>SaslAuthenticate: one round of the chosen mechanism.</summary>
    public SaslStep Authenticate(byte[] token)
    {
        if (IsAuthenticated) return new SaslStep.Failed("already authenticated (re-authentication is not supported)");
        SaslStep step = _mechanism switch
        {
            null => new SaslStep.Failed("SaslAuthenticate before SaslHandshake"),
            "PLAIN" => Plain(token),
            _ when ScramCredential.Parse(_mechanism) is { } scram => Scram(scram, token),
            _ => new SaslStep.Failed($"mechanism {_mechanism} is not served"),
        };
        if (step is SaslStep.Done done) Principal = done.Principal;
        return step;
    }

    private SaslStep Plain(byte[] token)
    {
        // authzid NUL authcid NUL passwd; an authzid other than the user is refused, as Kafka does.
        var parts = Encoding.UTF8.GetString(token).Split('\0');
        if (parts.Length != 3 || parts[1].Length == 0) return new SaslStep.Failed("malformed PLAIN token");
        if (parts[0].Length > 0 && parts[0] != parts[1]) return new SaslStep.Failed("authorization id differs from the user name");
        var credential = credentials.Find(parts[1], ScramMechanism.Sha512) ?? credentials.Find(parts[1], ScramMechanism.Sha256);
        return credential is not null && credential.Matches(parts[2])
            ? new SaslStep.Done(parts[1], [])
            : new SaslStep.Failed("invalid user name or password");
    }

    private SaslStep Scram(ScramMechanism mechanism, byte[] token)
    {
        if (_scram is null)
        {
            var (first, exchange) = ScramExchange.Begin(mechanism, Encoding.UTF8.GetString(token), credentials);
            _scram = exchange;
            return first;
        }
        return _scram.Finish(Encoding.UTF8.GetString(token));
    }

    /// <summary>RFC 5802's server: the state kept between the client's first and final messages.</summary>
    private sealed class ScramExchange(ScramMechanism mechanism, string user, string clientFirstBare, string serverFirst, string nonce, ScramCredential? credential)
    {
        private readonly ScramMechanism _mechanism = mechanism;
        private readonly string _user = user;
        private readonly string _clientFirstBare = clientFirstBare;
        private readonly string _serverFirst = serverFirst;
        private readonly string _nonce = nonce;
        private readonly ScramCredential? _credential = credential;

        /// <summary>The server-first message and the exchange to finish, or a failure and no exchange.</summary>
        public static (SaslStep Step, ScramExchange? Exchange) Begin(ScramMechanism mechanism, string clientFirst, ICredentialStore store)
        {
            // gs2-header "n,," (no channel binding, no authzid) then client-first-bare "n=user,r=nonce[,extensions]".
            if (!clientFirst.StartsWith("n,", StringComparison.Ordinal)) return (new SaslStep.Failed("SCRAM channel binding is not supported"), null);
            var gs2End = clientFirst.IndexOf(',', 2);
            if (gs2End < 0) return (new SaslStep.Failed("malformed SCRAM client-first message"), null);
            var bare = clientFirst[(gs2End + 1)..];
            var attributes = Attributes(bare);
            if (!attributes.TryGetValue('n', out var name) || !attributes.TryGetValue('r', out var clientNonce) || clientNonce.Length == 0)
            {
                return (new SaslStep.Failed("malformed SCRAM client-first message"), null);
            }
            var user = name.Replace("=2C", ",", StringComparison.Ordinal).Replace("=3D", "=", StringComparison.Ordinal);
            // An unknown user gets a challenge made up on the spot, so the reply does not tell who exists; the proof then fails.
            var credential = store.Find(user, mechanism);
            var salt = credential?.Salt ?? SHA256.HashData(Encoding.UTF8.GetBytes("unknown:" + user));
            var iterations = credential?.Iterations ?? ScramCredential.MinIterations;
            var nonce = clientNonce + Convert.ToHexString(RandomNumberGenerator.GetBytes(18)); // printable, no "," (RFC 5802)
            var serverFirst = $"r={nonce},s={Convert.ToBase64String(salt)},i={iterations}";
            var exchange = new ScramExchange(mechanism, user, bare, serverFirst, nonce, credential);
            return (new SaslStep.Continue(Encoding.UTF8.GetBytes(serverFirst)), exchange);
        }

        public SaslStep Finish(string clientFinal)
        {
            // "c=biws,r=nonce,p=proof": biws is base64("n,,"), no channel binding.
            var proofAt = clientFinal.LastIndexOf(",p=", StringComparison.Ordinal);
            if (proofAt < 0) return new SaslStep.Failed("malformed SCRAM client-final message");
            var withoutProof = clientFinal[..proofAt];
            var attributes = Attributes(clientFinal);
            // Ends with, as Kafka's ScramSaslServer checks: librdkafka sends its client nonce again in front of ours.
            if (!attributes.TryGetValue('r', out var nonce) || !nonce.EndsWith(_nonce, StringComparison.Ordinal)) return new SaslStep.Failed("SCRAM nonce mismatch");
            if (!attributes.TryGetValue('c', out var binding) || binding != "biws") return new SaslStep.Failed("SCRAM channel binding is not supported");
            byte[] proof;
            try
            {
                proof = Convert.FromBase64String(attributes['p']);
            }
            catch (FormatException)
            {
                return new SaslStep.Failed("malformed SCRAM proof");
            }
            if (_credential is null || proof.Length != _credential.StoredKey.Length) return new SaslStep.Failed("invalid user name or password");
            var authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{_serverFirst},{withoutProof}");
            var clientSignature = ScramCredential.Hmac(_mechanism, _credential.StoredKey, authMessage);
            var clientKey = new byte[proof.Length];
            for (var i = 0; i < proof.Length; i++) clientKey[i] = (byte)(proof[i] ^ clientSignature[i]);
            if (!CryptographicOperations.FixedTimeEquals(ScramCredential.Hash(_mechanism, clientKey), _credential.StoredKey))
            {
                return new SaslStep.Failed("invalid user name or password");
            }
            var serverSignature = ScramCredential.Hmac(_mechanism, _credential.ServerKey, authMessage);
            return new SaslStep.Done(_user, Encoding.UTF8.GetBytes("v=" + Convert.ToBase64String(serverSignature)));
        }

        private static Dictionary<char, string> Attributes(string message)
        {
            var result = new Dictionary<char, string>();
            foreach (var part in message.Split(','))
            {
                if (part.Length >= 2 && part[1] == '=') result.TryAdd(part[0], part[2..]);
            }
            return result;
        }
    }
}
