using Broker.Client;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Security;
using Broker.Tests;
using Xunit;

namespace Broker.IntegrationTests.Security;

/// <summary>
/// The native client door (broker.client-door) of a real node on a TLS cluster, with TLS on the door (the node's
/// certificate, no client certificates: clients trust the cluster CA), a login required and ACLs on: the
/// super user from the config file adds users (`broker users`) and ACLs (`broker acls`) through the Kafka listener;
/// native clients (the library, and the CLI with --command-config) log in at the door with those users' passwords and
/// may do what the ACLs allow, and are refused the rest with typed errors. One node for the whole class.
/// </summary>
[Collection(Replication.ClusterCollection.Name)]
public sealed class NativeDoorAclTests(NativeDoorAclTests.Node node) : IClassFixture<NativeDoorAclTests.Node>
{
    private readonly string _root = node.Root;
    private readonly string _door = node.Door;
    private readonly string _ca = node.ClusterCa;

    /// <summary>The one node of the class, started once (xUnit makes a test class instance per test).</summary>
    public sealed class Node : IAsyncLifetime
    {
        public string Root { get; } = Path.Combine(Path.GetTempPath(), "broker-native-door-" + Guid.NewGuid().ToString("N"));
        public BrokerProcess Process { get; private set; } = null!;
        public string Door { get; private set; } = null!;
        public string ClusterCa { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            var certs = new CertificateFiles(Path.Combine(Root, "certs"));
            certs.CreateCas(TimeSpan.FromDays(1), overwrite: false);
            var node = certs.IssueNode("1", ["127.0.0.1"], TimeSpan.FromDays(1), null, false);
            ClusterCa = certs.ClusterCa;
            var doorPort = BrokerProcess.FreePort();
            Door = $"127.0.0.1:{doorPort}";
            var conf = Path.Combine(Root, "native-door.conf");
            await File.WriteAllTextAsync(conf, $$"""
                broker.kafka {
                  security-protocol = SASL_PLAINTEXT
                  sasl { enabled-mechanisms = [SCRAM-SHA-512], dev-users { admin = "admin-secret" } }
                }
                broker.security.authorization { enabled = on, super-users = ["User:admin"] }
                broker.client-door { enabled = on, port = {{doorPort}}, require-login = on, tls.enabled = on }
                """);
            Process = await BrokerProcess.StartNodeAsync(Path.Combine(Root, "n1"), timeout: TimeSpan.FromSeconds(90),
                extraArgs: [.. TlsClusterFixture.TlsArgs(certs.ClusterCa, node), "--config", conf]);
            // Users and ACLs through one Confluent.Kafka AdminClient as the super user (what `broker users`/`broker acls`
            // send; the CLI's path is covered by KafkaAclTests): one connection instead of nine CLI processes.
            using (var kafka = new Confluent.Kafka.AdminClientBuilder(new Confluent.Kafka.AdminClientConfig
            {
                BootstrapServers = Process.KafkaBootstrap, SecurityProtocol = Confluent.Kafka.SecurityProtocol.SaslPlaintext,
                SaslMechanism = Confluent.Kafka.SaslMechanism.ScramSha512, SaslUsername = "admin", SaslPassword = "admin-secret",
            }).Build())
            {
                string[] users = ["alice", "bob", "carol"];
                await kafka.AlterUserScramCredentialsAsync([.. users.Select(User)]);
                await using (var admin = new AdminClient(Login("admin", "admin-secret")))
                {
                    var created = await admin.CreateTopicsAsync([Spec("orders"), Spec("logs-web"), Spec("logs-audit")]);
                    Assert.All(created, r => Assert.Equal(ErrorCode.None, r.Error));
                }
                await kafka.CreateAclsAsync(
                [
                    Acl("alice", Confluent.Kafka.Admin.AclOperation.Read, Confluent.Kafka.Admin.ResourceType.Topic, "orders"),
                    Acl("alice", Confluent.Kafka.Admin.AclOperation.Write, Confluent.Kafka.Admin.ResourceType.Topic, "orders"),
                    Acl("alice", Confluent.Kafka.Admin.AclOperation.Read, Confluent.Kafka.Admin.ResourceType.Group, "billing"),
                    Acl("alice", Confluent.Kafka.Admin.AclOperation.All, Confluent.Kafka.Admin.ResourceType.Topic, "logs-", Confluent.Kafka.Admin.ResourcePatternType.Prefixed),
                    Acl("alice", Confluent.Kafka.Admin.AclOperation.Write, Confluent.Kafka.Admin.ResourceType.Topic, "logs-audit", deny: true),
                    Acl("bob", Confluent.Kafka.Admin.AclOperation.Describe, Confluent.Kafka.Admin.ResourceType.Topic, "orders"),
                    Acl("bob", Confluent.Kafka.Admin.AclOperation.Read, Confluent.Kafka.Admin.ResourceType.Group, "billing"),
                ]);
            }
            // The ACLs reach the node's authorizer through the metadata store's subscription: wait until the last one is in force.
            await using var bob = new AdminClient(Login("bob", "bob-secret"));
            await Eventually.TrueAsync(async () => (await bob.ListGroupsAsync()) is not null && (await bob.GetMetadataAsync()).Topics.Any(t => t.Name == "orders"),
                TimeSpan.FromSeconds(20), "bob's ACLs in force on the client door");
        }

        public Task DisposeAsync()
        {
            Process.Dispose();
            TlsClusterFixture.DeleteQuietly(Root);
            return Task.CompletedTask;
        }

        private ClientConfig Login(string user, string password) =>
            new() { BootstrapServers = Door, Username = user, Password = password, RequestTimeout = TimeSpan.FromSeconds(15), SslCaLocation = ClusterCa };
    }

    private static TopicSpec Spec(string name) => new(name, 1, 1, new Dictionary<string, string>());

    private ClientConfig Login(string user, string password) =>
        new() { BootstrapServers = _door, Username = user, Password = password, RequestTimeout = TimeSpan.FromSeconds(15), SslCaLocation = _ca };

    private ProducerConfig Producing(string user) =>
        new() { BootstrapServers = _door, Username = user, Password = user + "-secret", Acks = Acks.All, LingerMs = 0, RequestTimeout = TimeSpan.FromSeconds(15), SslCaLocation = _ca };

    private ConsumerConfig Consuming(string user, string? group = null) =>
        new() { BootstrapServers = _door, Username = user, Password = user + "-secret", GroupId = group, EnableAutoCommit = false, RequestTimeout = TimeSpan.FromSeconds(15), SslCaLocation = _ca };

    private static Confluent.Kafka.Admin.UserScramCredentialUpsertion User(string name) => new()
    {
        User = name,
        ScramCredentialInfo = new Confluent.Kafka.Admin.ScramCredentialInfo { Mechanism = Confluent.Kafka.Admin.ScramMechanism.ScramSha512, Iterations = 4096 },
        Password = System.Text.Encoding.UTF8.GetBytes(name + "-secret"),
        Salt = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32),
    };

    private static Confluent.Kafka.Admin.AclBinding Acl(string user, Confluent.Kafka.Admin.AclOperation operation, Confluent.Kafka.Admin.ResourceType type, string name,
        Confluent.Kafka.Admin.ResourcePatternType pattern = Confluent.Kafka.Admin.ResourcePatternType.Literal, bool deny = false) => new()
    {
        Pattern = new Confluent.Kafka.Admin.ResourcePattern { Type = type, Name = name, ResourcePatternType = pattern },
        Entry = new Confluent.Kafka.Admin.AccessControlEntry
        {
            Principal = "User:" + user, Host = "*", Operation = operation,
            PermissionType = deny ? Confluent.Kafka.Admin.AclPermissionType.Deny : Confluent.Kafka.Admin.AclPermissionType.Allow,
        },
    };

    private static async Task<ErrorCode> ErrorOf(Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<BrokerException>(action);
        return error.Error;
    }

    [Fact]
    public async Task Alice_produces_consumes_and_commits_in_her_group()
    {
        await using (var producer = new Producer(Producing("alice")))
        {
            var delivered = await producer.ProduceAsync("orders", 0, new Message { Value = "paid"u8.ToArray() });
            Assert.True(delivered.Offset >= 0);
        }
        await using var consumer = new Consumer(Consuming("alice", "billing"));
        consumer.Assign([new TopicPartitionOffset("orders", 0, Offset.Beginning)]);
        ConsumeResult? record = null;
        Eventually.True(() => (record = consumer.Consume(TimeSpan.FromSeconds(1))) is not null, TimeSpan.FromSeconds(20), "alice reads orders");
        Assert.Equal("paid", System.Text.Encoding.UTF8.GetString(record!.Value!));
        await consumer.CommitAsync([new TopicPartitionOffset("orders", 0, record!.Offset + 1)]);
        var committed = consumer.Committed([new TopicPartition("orders", 0)], TimeSpan.FromSeconds(10));
        Assert.Equal(record.Offset + 1, Assert.Single(committed).Offset);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_AuthenticationFailed()
    {
        await using var admin = new AdminClient(Login("alice", "not-her-password"));
        var error = await Assert.ThrowsAsync<BrokerException>(() => admin.GetMetadataAsync());
        Assert.Equal(ErrorCode.AuthenticationFailed, error.Error);
        Assert.Contains("unknown user or wrong password", error.Message);
    }

    [Fact]
    public async Task An_unknown_user_is_refused_with_AuthenticationFailed()
    {
        await using var admin = new AdminClient(Login("mallory", "alice-secret"));
        Assert.Equal(ErrorCode.AuthenticationFailed, await ErrorOf(() => admin.GetMetadataAsync()));
    }

    [Fact]
    public async Task A_client_that_does_not_log_in_is_refused_with_AuthenticationFailed()
    {
        await using var admin = new AdminClient(new ClientConfig { BootstrapServers = _door, RequestTimeout = TimeSpan.FromSeconds(15), SslCaLocation = _ca });
        var error = await Assert.ThrowsAsync<BrokerException>(() => admin.GetMetadataAsync());
        Assert.Equal(ErrorCode.AuthenticationFailed, error.Error);
        Assert.Contains("requires a login", error.Message);
    }

    [Fact]
    public async Task A_user_without_Write_is_refused_producing_with_TopicAuthorizationFailed()
    {
        var notIdempotent = Producing("bob");
        notIdempotent.EnableIdempotence = false;
        await using (var plain = new Producer(notIdempotent))
        {
            var error = await Assert.ThrowsAsync<BrokerException>(() => plain.ProduceAsync("orders", 0, new Message { Value = "x"u8.ToArray() }));
            Assert.Equal(ErrorCode.TopicAuthorizationFailed, error.Error);
            Assert.Contains("broker acls add --allow User:bob --operation Write --topic orders", error.Message);
        }
        // An idempotent producer (the default with acks=all) first needs a producer id: Write on no topic at all is
        // refused there, as Kafka refuses InitProducerId with CLUSTER_AUTHORIZATION_FAILED.
        await using var idempotent = new Producer(Producing("bob"));
        var refused = await Assert.ThrowsAsync<BrokerException>(() => idempotent.ProduceAsync("orders", 0, new Message { Value = "x"u8.ToArray() }));
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, refused.Error);
        Assert.Contains("needs Write on some topic", refused.Message);
    }

    [Fact]
    public async Task A_user_without_Read_is_refused_consuming_and_committing()
    {
        await using var consumer = new Consumer(Consuming("bob", "billing"));
        consumer.Assign([new TopicPartitionOffset("orders", 0, Offset.Beginning)]);
        var error = Assert.Throws<BrokerException>(() =>
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (DateTime.UtcNow < deadline) consumer.Consume(TimeSpan.FromSeconds(1));
        });
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, error.Error);
        // Read on the group but not on the topic: the commit is refused per topic.
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await ErrorOf(() => consumer.CommitAsync([new TopicPartitionOffset("orders", 0, 0)])));
    }

    [Fact]
    public async Task A_group_without_Read_is_refused_with_GroupAuthorizationFailed()
    {
        await using var consumer = new Consumer(Consuming("alice", "payroll"));
        Assert.Equal(ErrorCode.GroupAuthorizationFailed, await ErrorOf(() => consumer.CommitAsync([new TopicPartitionOffset("orders", 0, 0)])));
    }

    [Fact]
    public async Task Listing_topics_shows_only_those_the_user_may_Describe()
    {
        await using var alice = new AdminClient(Login("alice", "alice-secret"));
        await using var carol = new AdminClient(Login("carol", "carol-secret"));
        Assert.Equal(["logs-audit", "logs-web", "orders"], (await alice.GetMetadataAsync()).Topics.Select(t => t.Name).Where(n => !n.StartsWith("__", StringComparison.Ordinal)).Order());
        Assert.Empty((await carol.GetMetadataAsync()).Topics);
        var named = Assert.Single((await carol.GetMetadataAsync(["orders"])).Topics);
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, named.Error);
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, await ErrorOf(() => carol.GetClusterStatusAsync()));
    }

    [Fact]
    public async Task A_Deny_overrides_an_Allow()
    {
        await using var producer = new Producer(Producing("alice"));
        Assert.True((await producer.ProduceAsync("logs-web", 0, new Message { Value = "ok"u8.ToArray() })).Offset >= 0);
        var error = await Assert.ThrowsAsync<BrokerException>(() => producer.ProduceAsync("logs-audit", 0, new Message { Value = "no"u8.ToArray() }));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, error.Error);
    }

    [Fact]
    public async Task The_CLI_logs_in_with_command_config_and_is_refused_without_it()
    {
        var alice = Path.Combine(_root, "alice.properties");
        await File.WriteAllLinesAsync(alice, ["security.protocol=SASL_SSL", $"ssl.ca.location={_ca}", "sasl.username=alice", "sasl.password=alice-secret"]);
        var tlsOnly = Path.Combine(_root, "tls-only.properties");
        await File.WriteAllLinesAsync(tlsOnly, ["security.protocol=SSL", $"ssl.ca.location={_ca}"]);
        var (exit, _, errors) = await CliProcess.RunAsync("cli-1\ncli-2\n", TimeSpan.FromSeconds(60), "produce", "logs-web", "--bootstrap", _door, "--command-config", alice);
        Assert.True(exit == 0, errors);
        var (listed, topics, listErrors) = await CliProcess.RunAsync(null, TimeSpan.FromSeconds(60), "topics", "list", "--bootstrap", _door, "--command-config", alice);
        Assert.True(listed == 0, listErrors);
        Assert.Contains("logs-web", topics);

        var (refused, _, refusal) = await CliProcess.RunAsync(null, TimeSpan.FromSeconds(60), "topics", "list", "--bootstrap", _door, "--command-config", tlsOnly);
        Assert.NotEqual(0, refused);
        Assert.Contains("AuthenticationFailed", refusal);
    }
}
