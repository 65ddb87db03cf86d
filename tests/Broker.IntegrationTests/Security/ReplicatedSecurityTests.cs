using Broker.Server.Security;
using Xunit;

namespace Broker.IntegrationTests.Security;

/// <summary>
/// Users and ACLs live in the cluster's metadata: added through one node's Kafka listener, they are enforced by the
/// other node too (two real processes with mutual TLS between them, SASL_SSL and authorization on both).
/// </summary>
[Collection(Replication.ClusterCollection.Name)]
public sealed class ReplicatedSecurityTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "broker-acl-cluster-" + Guid.NewGuid().ToString("N"));
    private CertificateFiles _certs = null!;
    private BrokerProcess _one = null!;
    private BrokerProcess _two = null!;

    public async Task InitializeAsync()
    {
        _certs = new CertificateFiles(Path.Combine(_root, "certs"));
        _certs.CreateCas(TimeSpan.FromDays(1), overwrite: false);
        var conf = Path.Combine(_root, "secure.conf");
        await File.WriteAllTextAsync(conf, """
            broker.kafka {
              security-protocol = SASL_SSL
              sasl { enabled-mechanisms = [SCRAM-SHA-512], dev-users { admin = "admin-secret" } }
            }
            broker.security.authorization { enabled = on, super-users = ["User:admin"] }
            """);
        _one = await BrokerProcess.StartNodeAsync(Path.Combine(_root, "n1"), timeout: TimeSpan.FromSeconds(90),
            extraArgs: [.. TlsClusterFixture.TlsArgs(_certs.ClusterCa, _certs.IssueNode("1", ["127.0.0.1"], TimeSpan.FromDays(1), null, false)), "--config", conf]);
        _two = await BrokerProcess.StartNodeAsync(Path.Combine(_root, "n2"), timeout: TimeSpan.FromSeconds(90), seed: _one.Bootstrap,
            extraArgs: [.. TlsClusterFixture.TlsArgs(_certs.ClusterCa, _certs.IssueNode("2", ["127.0.0.1"], TimeSpan.FromDays(1), null, false)), "--config", conf]);
    }

    public Task DisposeAsync()
    {
        _two.Dispose();
        _one.Dispose();
        TlsClusterFixture.DeleteQuietly(_root);
        return Task.CompletedTask;
    }

    private string[] Sasl(BrokerProcess node, string user, string password) =>
        ["-b", node.KafkaBootstrap, "-X", "security.protocol=SASL_SSL", "-X", $"ssl.ca.location={_certs.ClusterCa}", "-X", "sasl.mechanisms=SCRAM-SHA-512",
         "-X", $"sasl.username={user}", "-X", $"sasl.password={password}"];

    [Fact]
    public async Task A_user_and_an_ACL_added_through_one_node_are_enforced_by_the_other()
    {
        var admin = Path.Combine(_root, "admin.properties");
        await File.WriteAllLinesAsync(admin, ["security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512", "sasl.username=admin", "sasl.password=admin-secret", $"ssl.ca.location={_certs.ClusterCa}"]);
        foreach (var args in new[]
        {
            new[] { "users", "add", "erin", "--password", "erin-secret" },
            ["acls", "add", "--allow", "User:erin", "--operation", "Describe", "--topic", "*"],
        })
        {
            var (exit, stdout, stderr) = await CliProcess.RunAsync(null, TimeSpan.FromSeconds(60), [.. args, "--bootstrap-server", _one.KafkaBootstrap, "--command-config", admin]);
            Assert.True(exit == 0, stdout + stderr);
        }
        // Node 2 learns both from the metadata store: erin logs in there and may Describe, so a listing succeeds.
        await Broker.Tests.Eventually.TrueAsync(async () =>
        {
            var (exit, output, _) = await Kafka.Kcat.RunAsync(null, TimeSpan.FromSeconds(30), [.. Sasl(_two, "erin", "erin-secret"), "-L", "-m", "5"]);
            return exit == 0 && output.Contains("brokers:", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(30), "erin logs in on node 2");
        Assert.Contains("authenticated as User:erin", _two.Output);
        // Without Write, node 2 refuses erin's produce with Kafka's error (on a topic that exists: librdkafka sends no
        // Produce for a topic Metadata calls unknown).
        var config = new Confluent.Kafka.AdminClientConfig
        {
            BootstrapServers = _one.KafkaBootstrap, SecurityProtocol = Confluent.Kafka.SecurityProtocol.SaslSsl, SslCaLocation = _certs.ClusterCa,
            SaslMechanism = Confluent.Kafka.SaslMechanism.ScramSha512, SaslUsername = "admin", SaslPassword = "admin-secret",
        };
        using (var client = new Confluent.Kafka.AdminClientBuilder(config).Build())
            await client.CreateTopicsAsync([new Confluent.Kafka.Admin.TopicSpecification { Name = "anything", NumPartitions = 1, ReplicationFactor = 2 }]);
        var (_, produced, errors) = await Kafka.Kcat.RunAsync("x\n", TimeSpan.FromSeconds(60), [.. Sasl(_two, "erin", "erin-secret"), "-P", "-t", "anything"]);
        Assert.Contains("authorization failed", produced + errors, StringComparison.OrdinalIgnoreCase);
    }
}
