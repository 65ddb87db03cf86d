using Broker.IntegrationTests.Kafka;
using Broker.Server.Security;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit;

namespace Broker.IntegrationTests.Security;

/// <summary>
/// The Kafka listener with security-protocol = SSL and ssl.client-auth = required, on a node that also runs mutual
/// TLS between nodes (the listener serves the node's certificate; clients trust the cluster CA). kcat and
/// Confluent.Kafka with a client-CA certificate produce and consume; without a certificate, with a self-signed one,
/// with a node certificate (cluster CA, not the client CA) or in PLAINTEXT they get nothing.
/// </summary>
[Collection(Replication.ClusterCollection.Name)]
public sealed class KafkaTlsTests : IAsyncLifetime
{
    private const string HandshakeFailed = "kafka: TLS handshake with";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "broker-kafka-tls-" + Guid.NewGuid().ToString("N"));
    private CertificateFiles _certs = null!;
    private CertificateFiles.Issued _alice = null!;
    private CertificateFiles.Issued _node = null!;
    private BrokerProcess _broker = null!;

    public async Task InitializeAsync()
    {
        _certs = new CertificateFiles(Path.Combine(_root, "certs"));
        _certs.CreateCas(TimeSpan.FromDays(1), overwrite: false);
        _node = _certs.IssueNode("1", ["127.0.0.1"], TimeSpan.FromDays(1), null, false);
        _alice = _certs.IssueClient("alice", TimeSpan.FromDays(1), null, false);
        var conf = Path.Combine(_root, "kafka-ssl.conf");
        await File.WriteAllTextAsync(conf, $$"""
            broker.kafka {
              security-protocol = SSL
              ssl { client-auth = required, truststore-location = "{{_certs.ClientCa}}" }
            }
            """);
        _broker = await BrokerProcess.StartNodeAsync(Path.Combine(_root, "n1"), timeout: TimeSpan.FromSeconds(90),
            extraArgs: [.. TlsClusterFixture.TlsArgs(_certs.ClusterCa, _node), "--config", conf]);
    }

    public Task DisposeAsync()
    {
        _broker.Dispose();
        TlsClusterFixture.DeleteQuietly(_root);
        return Task.CompletedTask;
    }

    private ClientConfig Ssl(CertificateFiles.Issued? client) => new()
    {
        BootstrapServers = _broker.KafkaBootstrap,
        SecurityProtocol = SecurityProtocol.Ssl,
        SslCaLocation = _certs.ClusterCa,
        SslCertificateLocation = client?.Certificate,
        SslKeyLocation = client?.Key,
    };

    /// <summary>kcat's settings for alice's client certificate over SSL.</summary>
    private string[] AliceKcat =>
        ["-X", "security.protocol=SSL", "-X", $"ssl.ca.location={_certs.ClusterCa}", "-X", $"ssl.certificate.location={_alice.Certificate}", "-X", $"ssl.key.location={_alice.Key}"];

    [Fact]
    public async Task A_client_certificate_from_the_client_CA_produces_and_consumes_over_TLS()
    {
        using (var admin = new AdminClientBuilder(new AdminClientConfig(Ssl(_alice))).Build())
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "tls-topic", NumPartitions = 1, ReplicationFactor = 1 }]);
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig(Ssl(_alice)) { Acks = Acks.All }).Build())
        {
            var delivered = await producer.ProduceAsync("tls-topic", new Message<Null, string> { Value = "over tls" });
            Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
        }
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig(Ssl(_alice)) { GroupId = "tls-group", AutoOffsetReset = AutoOffsetReset.Earliest }).Build();
        consumer.Subscribe("tls-topic");
        var record = consumer.Consume(TimeSpan.FromSeconds(30));
        Assert.Equal("over tls", record?.Message.Value);
        consumer.Close();
    }

    [Fact]
    public async Task Kcat_with_a_client_certificate_lists_the_cluster_over_TLS()
    {
        var (exit, output, errors) = await Kcat.RunAsync(null, TimeSpan.FromSeconds(30), ["-b", _broker.KafkaBootstrap, "-L", .. AliceKcat]);
        Assert.True(exit == 0, errors);
        Assert.Contains($"ssl://{_broker.KafkaBootstrap}", output);
    }

    [Fact]
    public async Task Kcat_without_a_client_certificate_is_refused() =>
        await AssertRefusedAsync("no client certificate",
            "-X", "security.protocol=SSL", "-X", $"ssl.ca.location={_certs.ClusterCa}");

    [Fact]
    public async Task Kcat_in_plaintext_is_refused() =>
        await AssertRefusedAsync("PLAINTEXT");

    [Fact]
    public async Task A_node_certificate_is_not_a_client_certificate() =>
        await AssertRefusedAsync("does not chain",
            "-X", "security.protocol=SSL", "-X", $"ssl.ca.location={_certs.ClusterCa}",
            "-X", $"ssl.certificate.location={_node.Certificate}", "-X", $"ssl.key.location={_node.Key}");

    [Fact]
    public async Task A_self_signed_client_certificate_is_refused()
    {
        var own = new CertificateFiles(Path.Combine(_root, "own"));
        own.CreateCas(TimeSpan.FromDays(1), overwrite: false);
        var mallory = own.IssueClient("alice", TimeSpan.FromDays(1), null, false);
        await AssertRefusedAsync("does not chain",
            "-X", "security.protocol=SSL", "-X", $"ssl.ca.location={_certs.ClusterCa}",
            "-X", $"ssl.certificate.location={mallory.Certificate}", "-X", $"ssl.key.location={mallory.Key}");
    }

    /// <summary>kcat -L fails, and the node logs the refused handshake with <paramref name="reason"/>; the node keeps serving.</summary>
    private async Task AssertRefusedAsync(string reason, params string[] settings)
    {
        var before = TlsClusterFixture.Count(_broker, HandshakeFailed);
        var (exit, output, _) = await Kcat.RunAsync(null, TimeSpan.FromSeconds(30), ["-b", _broker.KafkaBootstrap, "-L", "-m", "3", .. settings]);
        Assert.NotEqual(0, exit);
        Assert.DoesNotContain("topics:", output);
        await TlsClusterFixture.WaitForMoreAsync(_broker, HandshakeFailed, before, "the node logs the refused handshake");
        Assert.Contains(reason, _broker.Output);
        var (ok, _, errors) = await Kcat.RunAsync(null, TimeSpan.FromSeconds(30), ["-b", _broker.KafkaBootstrap, "-L", .. AliceKcat]);
        Assert.True(ok == 0, errors);
    }
}
