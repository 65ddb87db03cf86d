using Akka.Configuration;
using Akka.Event;
using Broker.Kafka;
using K = Broker.Kafka.Messages;

namespace Broker.Server.Security.Sasl;

/// <summary>
/// SASL on the Kafka listener (security-protocol SASL_PLAINTEXT or SASL_SSL): the enabled mechanisms (Kafka's
/// sasl.enabled.mechanisms) and the credential store. Null when the listener does not authenticate.
/// </summary>
public sealed record KafkaSaslSettings(IReadOnlyList<string> EnabledMechanisms, ICredentialStore Credentials)
{
    public static readonly string[] Served = ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"];

    /// <summary>
    /// Reads broker.kafka.sasl. Credentials come from sasl.dev-users (user = password, DEVELOPMENT ONLY: held in memory
    /// as salted SCRAM keys, lost at restart) until the replicated credential store lands.
    /// </summary>
    public static KafkaSaslSettings? Create(Config kafka)
    {
        var protocol = kafka.GetString("security-protocol", "PLAINTEXT");
        if (protocol is not ("SASL_PLAINTEXT" or "SASL_SSL")) return null;
        var sasl = kafka.GetConfig("sasl") ?? ConfigurationFactory.Empty;
        var mechanisms = sasl.GetStringList("enabled-mechanisms", ["SCRAM-SHA-512", "SCRAM-SHA-256"]).ToList();
        if (mechanisms.Count == 0 || mechanisms.Any(m => !Served.Contains(m)))
        {
            throw new ConfigurationException(
                $"broker.kafka.sasl.enabled-mechanisms must name some of {string.Join(", ", Served)} (Kafka's sasl.enabled.mechanisms), got [{string.Join(", ", mechanisms)}]");
        }
        return new KafkaSaslSettings(mechanisms, DevUsers(kafka));
    }

    /// <summary>The bootstrap users of broker.kafka.sasl.dev-users (user = password), held in memory as salted SCRAM keys; the client door accepts them too.</summary>
    public static InMemoryCredentialStore DevUsers(Config kafka)
    {
        var store = new InMemoryCredentialStore();
        var users = kafka.GetConfig("sasl")?.GetConfig("dev-users");
        if (users is not null && !users.IsEmpty)
        {
            foreach (var (user, password) in users.AsEnumerable()) store.Add(user, password.GetString());
        }
        return store;
    }
}

/// <summary>
/// The gate a SASL listener's connection passes before any other request (as Kafka's SaslServerAuthenticator): only
/// ApiVersions, SaslHandshake (v1) and SaslAuthenticate are answered until the client is authenticated; anything else
/// closes the connection. Failed logins are logged and answered after a pause, so guessing is slow.
/// </summary>
internal static class KafkaSaslGate
{
    private static readonly TimeSpan FailurePause = TimeSpan.FromSeconds(1);

    /// <summary>The answer to a request on a connection that is not yet authenticated; throws (closing it) for a request that must wait.</summary>
    public static Task<IKafkaMessage?> Handle(SaslAuthenticator sasl, short apiKey, string apiName, ref KafkaReader body, short version, string remote, ILoggingAdapter log)
    {
        switch (apiKey)
        {
            case K.SaslHandshakeRequest.Api:
                var handshake = K.SaslHandshakeRequest.Read(ref body, version);
                if (version == 0) throw new KafkaProtocolException("SaslHandshake v0 (raw SASL tokens) is not served: use a client that sends SaslAuthenticate (librdkafka 1.0+, Java 1.0+)");
                var accepted = sasl.Handshake(handshake.Mechanism);
                if (!accepted) log.Warning("kafka: {0} asked for SASL mechanism {1}; enabled: {2}", remote, handshake.Mechanism, string.Join(", ", sasl.EnabledMechanisms));
                return Task.FromResult<IKafkaMessage?>(new K.SaslHandshakeResponse
                {
                    ErrorCode = accepted ? (short)0 : Kafka.KafkaErrors.UnsupportedSaslMechanism,
                    Mechanisms = [.. sasl.EnabledMechanisms],
                });
            case K.SaslAuthenticateRequest.Api:
                var request = K.SaslAuthenticateRequest.Read(ref body, version);
                switch (sasl.Authenticate(request.AuthBytes))
                {
                    case SaslStep.Continue next:
                        return Task.FromResult<IKafkaMessage?>(new K.SaslAuthenticateResponse { AuthBytes = next.Challenge });
                    case SaslStep.Done done:
                        log.Info("kafka: {0} authenticated as User:{1}", remote, done.Principal);
                        return Task.FromResult<IKafkaMessage?>(new K.SaslAuthenticateResponse { AuthBytes = done.Final });
                    case SaslStep.Failed failed:
                        log.Warning("kafka: SASL authentication from {0} failed: {1}", remote, failed.Message);
                        return Slowly(new K.SaslAuthenticateResponse
                        {
                            ErrorCode = Kafka.KafkaErrors.SaslAuthenticationFailed,
                            ErrorMessage = $"Authentication failed: {failed.Message}",
                            AuthBytes = [],
                        });
                    default:
                        throw new InvalidOperationException("unknown SASL step");
                }
            default:
                throw new KafkaProtocolException($"{apiName} before SASL authentication: the listener's security-protocol is SASL_*, authenticate first");
        }
    }

    private static async Task<IKafkaMessage?> Slowly(IKafkaMessage response)
    {
        await Task.Delay(FailurePause);
        return response;
    }
}
