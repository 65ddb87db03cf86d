using Broker.IntegrationTests.Kafka;
using Broker.Server.Security;
using Confluent.Kafka;
using Xunit;

namespace Broker.IntegrationTests.Security;

/// <summary>
/// The Kafka listener with security-protocol = SASL_SSL and SCRAM-SHA-512 / PLAIN against the development credential
/// store (broker.kafka.sasl.dev-users): kcat and Confluent.Kafka authenticate and produce; a wrong password, an unknown
/// user and an unauthenticated request are refused, and the node keeps serving.
/// </summary>
[Collection(Replication.ClusterCollection.Name)]
public sealed class KafkaSaslTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "broker-kafka-sasl-" + Guid.NewGuid().ToString("N"));
    private CertificateFiles _certs = null!;
    private BrokerProcess _broker = null!;

    public async Task InitializeAsync()
    {
        _certs = new CertificateFiles(Path.Combine(_root, "certs"));
        _certs.CreateCas(TimeSpan.FromDays(1), overwrite: false);
        var node = _certs.IssueNode("1", ["127.0.0.1"], TimeSpan.FromDays(1), null, false);
        var conf = Path.Combine(_root, "kafka-sasl.conf");
        await File.WriteAllTextAsync(conf, """
            broker.kafka {
              security-protocol = SASL_SSL
              sasl { enabled-mechanisms = [SCRAM-SHA-512, SCRAM-SHA-256, PLAIN], dev-users { alice = "alice-secret" } }
            }
            """);
        _broker = await BrokerProcess.StartNodeAsync(Path.Combine(_root, "n1"), timeout: TimeSpan.FromSeconds(90),
            extraArgs: [.. TlsClusterFixture.TlsArgs(_certs.ClusterCa, node), "--config", conf]);
    }

    public Task DisposeAsync()
    {
        _broker.Dispose();
        TlsClusterFixture.DeleteQuietly(_root);
        return Task.CompletedTask;
    }

    private string[] Sasl(string mechanism, string user, string password) =>
        ["-X", "security.protocol=SASL_SSL", "-X", $"ssl.ca.location={_certs.ClusterCa}", "-X", $"sasl.mechanisms={mechanism}",
         "-X", $"sasl.username={user}", "-X", $"sasl.password={password}"];

    [Theory]
    [InlineData("SCRAM-SHA-512")]
    [InlineData("SCRAM-SHA-256")]
    [InlineData("PLAIN")]
    public async Task Kcat_authenticates_and_lists_the_cluster(string mechanism)
    {
        var (exit, output, errors) = await Kcat.RunAsync(null, TimeSpan.FromSeconds(30), ["-b", _broker.KafkaBootstrap, "-L", .. Sasl(mechanism, "alice", "alice-secret")]);
        Assert.True(exit == 0, errors);
        Assert.Contains($"sasl_ssl://{_broker.KafkaBootstrap}", output);
        Assert.Contains("authenticated as User:alice", _broker.Output);
    }

    [Fact]
    public async Task Confluent_Kafka_with_SCRAM_SHA_512_creates_a_topic_and_produces()
    {
        var config = new ClientConfig
        {
            BootstrapServers = _broker.KafkaBootstrap,
            SecurityProtocol = SecurityProtocol.SaslSsl,
            SslCaLocation = _certs.ClusterCa,
            SaslMechanism = SaslMechanism.ScramSha512,
            SaslUsername = "alice",
            SaslPassword = "alice-secret",
        };
        using (var admin = new AdminClientBuilder(new AdminClientConfig(config)).Build())
            await admin.CreateTopicsAsync([new Confluent.Kafka.Admin.TopicSpecification { Name = "sasl-topic", NumPartitions = 1, ReplicationFactor = 1 }]);
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig(config) { Acks = Acks.All }).Build();
        var delivered = await producer.ProduceAsync("sasl-topic", new Message<Null, string> { Value = "authenticated" });
        Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
    }

    [Theory]
    [InlineData("alice", "wrong")]
    [InlineData("mallory", "alice-secret")]
    public async Task A_wrong_password_or_an_unknown_user_is_refused(string user, string password)
    {
        var before = TlsClusterFixture.Count(_broker, "SASL authentication from");
        var (exit, output, errors) = await Kcat.RunAsync(null, TimeSpan.FromSeconds(30), ["-b", _broker.KafkaBootstrap, "-L", "-m", "5", .. Sasl("SCRAM-SHA-512", user, password)]);
        Assert.NotEqual(0, exit);
        Assert.DoesNotContain("topics:", output);
        Assert.Contains("Authentication failed", errors);
        await TlsClusterFixture.WaitForMoreAsync(_broker, "SASL authentication from", before, "the node logs the failed login");
        await Kcat_authenticates_and_lists_the_cluster("SCRAM-SHA-512");
    }

    [Fact]
    public async Task A_client_that_skips_authentication_reaches_nothing()
    {
        var before = TlsClusterFixture.Count(_broker, "before SASL authentication");
        var (exit, output, _) = await Kcat.RunAsync(null, TimeSpan.FromSeconds(30), "-b", _broker.KafkaBootstrap, "-L", "-m", "5",
            "-X", "security.protocol=SSL", "-X", $"ssl.ca.location={_certs.ClusterCa}");
        Assert.NotEqual(0, exit);
        Assert.DoesNotContain("topics:", output);
        await TlsClusterFixture.WaitForMoreAsync(_broker, "before SASL authentication", before, "the node closes the unauthenticated connection");
    }
}
