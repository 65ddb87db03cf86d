using Broker.Server.Security;
using Xunit;

namespace Broker.IntegrationTests.Security;

/// <summary>
/// Authorization on the Kafka listener with real processes and real clients (kcat, python confluent-kafka, the CLI),
/// over SASL_SSL with SCRAM-SHA-512: the super user from the config file adds users and ACLs with `broker users` and
/// `broker acls` (kept in the metadata store); each user may do what its ACLs allow and is refused the rest with
/// Kafka's typed errors, a Deny overrides an Allow, and users and ACLs survive a restart.
/// </summary>
[Collection(Replication.ClusterCollection.Name)]
public sealed class KafkaAclTests(KafkaAclTests.AclNode fixture) : IClassFixture<KafkaAclTests.AclNode>
{
    private const string Python = "/usr/bin/python3"; // Debian's python3-confluent-kafka (.ci/run installs it)

    /// <summary>
    /// One node, its users, topics and ACLs, shared by the class's tests (each adds only what it alone uses): starting
    /// it and running a dozen CLI and python processes for every test cost minutes of the suite.
    /// </summary>
    public sealed class AclNode : IAsyncLifetime
    {
        public string Root { get; } = Path.Combine(Path.GetTempPath(), "broker-kafka-acl-" + Guid.NewGuid().ToString("N"));
        public CertificateFiles Certs { get; private set; } = null!;
        public BrokerProcess Broker { get; private set; } = null!;
        private CertificateFiles.Issued _node = null!;
        private string _conf = null!;
        private string _adminProperties = null!;

        public async Task InitializeAsync()
        {
            Certs = new CertificateFiles(Path.Combine(Root, "certs"));
            Certs.CreateCas(TimeSpan.FromDays(1), overwrite: false);
            _node = Certs.IssueNode("1", ["127.0.0.1"], TimeSpan.FromDays(1), null, false);
            _conf = Path.Combine(Root, "kafka-acl.conf");
            await File.WriteAllTextAsync(_conf, """
                broker.kafka {
                  security-protocol = SASL_SSL
                  sasl { enabled-mechanisms = [SCRAM-SHA-512], dev-users { admin = "admin-secret" } }
                }
                broker.security.authorization { enabled = on, super-users = ["User:admin"] }
                """);
            await StartAsync();
            _adminProperties = Path.Combine(Root, "admin.properties");
            await File.WriteAllLinesAsync(_adminProperties,
                ["security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512", "sasl.username=admin", "sasl.password=admin-secret", $"ssl.ca.location={Certs.ClusterCa}"]);

            foreach (var user in new[] { "alice", "bob", "carol" }) await Admin("users", "add", user, "--password", user + "-secret");
            await Admin("topics-create", "orders");
            await Admin("topics-create", "logs-web");
            await Admin("topics-create", "logs-audit");
            await Admin("acls", "add", "--allow", "User:alice", "--operation", "Read", "--operation", "Write", "--topic", "orders");
            await Admin("acls", "add", "--allow", "User:alice", "--operation", "Read", "--group", "billing");
            await Admin("acls", "add", "--allow", "User:alice", "--operation", "All", "--topic", "logs-", "--prefixed");
            await Admin("acls", "add", "--deny", "User:alice", "--operation", "Write", "--topic", "logs-audit");
            await Admin("acls", "add", "--allow", "User:bob", "--operation", "Describe", "--topic", "orders");
            await Admin("acls", "add", "--allow", "User:bob", "--operation", "Read", "--group", "billing");
        }

        public async Task StartAsync() =>
            Broker = await BrokerProcess.StartNodeAsync(Path.Combine(Root, "n1"), timeout: TimeSpan.FromSeconds(90),
                extraArgs: [.. TlsClusterFixture.TlsArgs(Certs.ClusterCa, _node), "--config", _conf]);

        public Task DisposeAsync()
        {
            Broker.Dispose();
            TlsClusterFixture.DeleteQuietly(Root);
            return Task.CompletedTask;
        }

        /// <summary>A CLI command as the super user, which must succeed; "topics-create NAME" creates the topic with python confluent-kafka (the CLI's native client cannot reach a TLS cluster).</summary>
        public async Task<string> Admin(params string[] args)
        {
            if (args[0] == "topics-create")
            {
                var (code, output, errors) = await RunPython(PythonScript.CreateTopic, "admin", "admin-secret", args[1]);
                Assert.True(code == 0, $"create topic {args[1]}: {output}{errors}");
                return output;
            }
            var (exit, stdout, stderr) = await CliProcess.RunAsync(null, TimeSpan.FromSeconds(60), [.. args, "--bootstrap-server", Broker.KafkaBootstrap, "--command-config", _adminProperties]);
            Assert.True(exit == 0, $"broker {string.Join(' ', args)}: {stdout}{stderr}");
            return stdout;
        }

        public async Task<(int ExitCode, string Output, string Errors)> RunPython(string script, string user, string password, params string[] args)
        {
            var info = new System.Diagnostics.ProcessStartInfo(Python)
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            foreach (var a in (string[])["-c", script, Broker.KafkaBootstrap, Certs.ClusterCa, user, password, .. args]) info.ArgumentList.Add(a);
            return await CliProcess.RunToExitAsync(System.Diagnostics.Process.Start(info)!, null, TimeSpan.FromSeconds(90), $"python3 {string.Join(' ', args)}");
        }
    }

    private BrokerProcess Node => fixture.Broker;
    private CertificateFiles Certs => fixture.Certs;

    private Task<string> Admin(params string[] args) => fixture.Admin(args);

    private Task<(int ExitCode, string Output, string Errors)> RunPython(string script, string user, string password, params string[] args) =>
        fixture.RunPython(script, user, password, args);

    private string[] Sasl(string user) =>
        ["-b", Node.KafkaBootstrap, "-X", "security.protocol=SASL_SSL", "-X", $"ssl.ca.location={Certs.ClusterCa}", "-X", "sasl.mechanisms=SCRAM-SHA-512",
         "-X", $"sasl.username={user}", "-X", $"sasl.password={user}-secret"];

    private Task<(int ExitCode, string Output, string Errors)> Kcat(string user, string? input, params string[] args) =>
        Kafka.Kcat.RunAsync(input, TimeSpan.FromSeconds(60), [.. Sasl(user), .. args]);

    [Fact]
    public async Task Alice_with_Write_and_Read_produces_and_consumes_with_kcat()
    {
        var (exit, _, errors) = await Kcat("alice", "one\ntwo\n", "-P", "-t", "orders");
        Assert.True(exit == 0, errors);
        var (_, output, consumeErrors) = await Kcat("alice", null, "-C", "-t", "orders", "-o", "beginning", "-e", "-q");
        Assert.Contains("one", output + consumeErrors);
        Assert.Contains("two", output);
    }

    [Fact]
    public async Task Python_confluent_kafka_with_SCRAM_SHA_512_produces_consumes_and_commits_in_an_allowed_group()
    {
        var (exit, output, errors) = await RunPython(PythonScript.ProduceConsumeCommit, "alice", "alice-secret", "orders", "billing");
        Assert.True(exit == 0, output + errors);
        Assert.Contains("committed", output);
    }

    [Fact]
    public async Task A_user_without_Write_is_refused_producing_with_TOPIC_AUTHORIZATION_FAILED()
    {
        var (_, output, errors) = await Kcat("bob", "x\n", "-P", "-t", "orders");
        Assert.Contains("Topic authorization failed", output + errors);
        var (_, pyOut, pyErr) = await RunPython(PythonScript.Produce, "bob", "bob-secret", "orders");
        Assert.Contains("TOPIC_AUTHORIZATION_FAILED", pyOut + pyErr);
    }

    [Fact]
    public async Task A_user_without_Read_is_refused_consuming_with_TOPIC_AUTHORIZATION_FAILED()
    {
        var (_, output, errors) = await Kcat("bob", null, "-C", "-t", "orders", "-o", "beginning", "-e");
        Assert.Contains("Topic authorization failed", output + errors);
    }

    [Fact]
    public async Task A_group_without_Read_is_refused_with_GROUP_AUTHORIZATION_FAILED()
    {
        var (_, output, errors) = await RunPython(PythonScript.ProduceConsumeCommit, "alice", "alice-secret", "orders", "not-granted");
        Assert.Contains("GROUP_AUTHORIZATION_FAILED", output + errors);
    }

    [Fact]
    public async Task Listing_shows_only_the_topics_a_user_may_Describe()
    {
        var (_, alice, _) = await Kcat("alice", null, "-L");
        var (_, carol, carolErrors) = await Kcat("carol", null, "-L");
        Assert.Contains("topic \"orders\"", alice);
        Assert.Contains("topic \"logs-web\"", alice);
        Assert.Contains("0 topics", carol + carolErrors);
        var (_, named, _) = await Kcat("carol", null, "-L", "-t", "orders");
        Assert.Contains("Topic authorization failed", named);
    }

    [Fact]
    public async Task A_Deny_overrides_an_Allow()
    {
        var (webExit, _, webErrors) = await Kcat("alice", "ok\n", "-P", "-t", "logs-web");
        Assert.True(webExit == 0, webErrors);
        var (_, output, errors) = await Kcat("alice", "no\n", "-P", "-t", "logs-audit");
        Assert.Contains("Topic authorization failed", output + errors);
    }

    [Fact]
    public async Task Only_a_super_user_may_change_ACLs_or_users_and_a_user_unknown_to_the_store_cannot_log_in()
    {
        var alice = Path.Combine(fixture.Root, "alice.properties");
        await File.WriteAllLinesAsync(alice, ["security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512", "sasl.username=alice", "sasl.password=alice-secret", $"ssl.ca.location={Certs.ClusterCa}"]);
        var (exit, stdout, stderr) = await CliProcess.RunAsync(null, TimeSpan.FromSeconds(60),
            "acls", "add", "--allow", "User:alice", "--operation", "All", "--cluster", "--bootstrap-server", Node.KafkaBootstrap, "--command-config", alice);
        Assert.NotEqual(0, exit);
        Assert.Contains("ClusterAuthorizationFailed", stdout + stderr);

        var (loginExit, _, loginErrors) = await Kafka.Kcat.RunAsync(null, TimeSpan.FromSeconds(30), [.. Sasl("mallory"), "-L", "-m", "5"]);
        Assert.NotEqual(0, loginExit);
        Assert.Contains("Authentication failed", loginErrors);
    }

    [Fact]
    public async Task Users_and_ACLs_are_kept_in_the_metadata_and_survive_a_restart()
    {
        var listed = await Admin("acls", "list", "--topic", "orders");
        Assert.Contains("User:bob", listed);
        var users = await Admin("users", "list");
        Assert.Contains("alice", users);
        Assert.Contains("SCRAM-SHA-512", users);

        Node.Dispose();
        await fixture.StartAsync();
        await Alice_with_Write_and_Read_produces_and_consumes_with_kcat();
        await A_user_without_Write_is_refused_producing_with_TOPIC_AUTHORIZATION_FAILED();
        Assert.Contains("User:alice", await Admin("acls", "list", "--principal", "User:alice"));
    }

    [Fact]
    public async Task A_removed_ACL_stops_a_consumer_that_is_already_consuming()
    {
        await Admin("topics-create", "revoked");
        await Admin("acls", "add", "--allow", "User:dave", "--operation", "Read", "--operation", "Write", "--topic", "revoked");
        await Admin("acls", "add", "--allow", "User:dave", "--operation", "Read", "--group", "dave");
        await Admin("users", "add", "dave", "--password", "dave-secret");
        var config = new Confluent.Kafka.ConsumerConfig
        {
            BootstrapServers = Node.KafkaBootstrap, SecurityProtocol = Confluent.Kafka.SecurityProtocol.SaslSsl, SslCaLocation = Certs.ClusterCa,
            SaslMechanism = Confluent.Kafka.SaslMechanism.ScramSha512, SaslUsername = "dave", SaslPassword = "dave-secret",
            GroupId = "dave", EnableAutoCommit = false, AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest,
        };
        var (exit, _, errors) = await Kcat("dave", "before\n", "-P", "-t", "revoked");
        Assert.True(exit == 0, errors);
        using var consumer = new Confluent.Kafka.ConsumerBuilder<Confluent.Kafka.Ignore, string>(config).Build();
        consumer.Assign(new Confluent.Kafka.TopicPartitionOffset("revoked", 0, Confluent.Kafka.Offset.Beginning));
        Assert.Equal("before", consumer.Consume(TimeSpan.FromSeconds(30))?.Message.Value);

        await Admin("acls", "remove", "--allow", "User:dave", "--operation", "Read", "--topic", "revoked");
        (exit, _, errors) = await Kcat("dave", "after\n", "-P", "-t", "revoked");
        Assert.True(exit == 0, errors);
        var refused = await Assert.ThrowsAsync<Confluent.Kafka.ConsumeException>(() => Task.Run(() =>
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                if (consumer.Consume(TimeSpan.FromSeconds(1)) is { } record) Assert.Fail($"consumed '{record.Message.Value}' after the ACL was removed");
            }
        }));
        Assert.Equal(Confluent.Kafka.ErrorCode.TopicAuthorizationFailed, refused.Error.Code);
    }

    [Fact]
    public async Task Hand_crafted_Akka_Remote_frames_and_garbage_at_the_Kafka_and_HTTP_ports_reach_nothing()
    {
        // What an attacker would send an Akka.Remote port: a length-prefixed frame naming Akka's JSON serializer (id 1)
        // with a $type to instantiate, and raw random bytes.
        foreach (var port in new[] { Node.KafkaPort, Node.HttpPort })
        {
            foreach (var payload in new[] { Broker.Tests.Strangers.JsonTypeFrame(), Broker.Tests.Strangers.Garbage() })
            {
                using var tcp = new System.Net.Sockets.TcpClient();
                await tcp.ConnectAsync("127.0.0.1", port);
                var stream = tcp.GetStream();
                await stream.WriteAsync(payload);
                var answer = new byte[512];
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                int read;
                try
                {
                    read = await stream.ReadAsync(answer, timeout.Token);
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException)
                {
                    read = 0;
                }
                // The Kafka port (TLS) closes without a byte; the HTTP port answers 400 at most.
                var text = System.Text.Encoding.ASCII.GetString(answer, 0, read);
                Assert.True(read == 0 || text.StartsWith("HTTP/1.1 400", StringComparison.Ordinal), $"port {port} answered: {text}");
            }
        }
        Assert.False(Node.HasExited, Node.Output);
        await Alice_with_Write_and_Read_produces_and_consumes_with_kcat();
    }

    /// <summary>The python confluent-kafka programs; argv: bootstrap, CA, user, password, then their own.</summary>
    internal static class PythonScript
    {
        private const string Common = """
            import sys
            from confluent_kafka import Producer, Consumer, KafkaException
            from confluent_kafka.admin import AdminClient, NewTopic
            bootstrap, ca, user, password = sys.argv[1:5]
            conf = {'bootstrap.servers': bootstrap, 'security.protocol': 'SASL_SSL', 'ssl.ca.location': ca,
                    'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': user, 'sasl.password': password}

            """;

        public const string CreateTopic = Common + """
            admin = AdminClient(conf)
            for f in admin.create_topics([NewTopic(sys.argv[5], 1, 1)]).values(): f.result(timeout=30)
            print('created')
            """;

        public const string Produce = Common + """
            errors = []
            p = Producer(conf)
            p.produce(sys.argv[5], b'value', on_delivery=lambda err, msg: errors.append(err))
            p.flush(30)
            print('delivery:', errors[0].name() if errors and errors[0] else 'ok')
            """;

        public const string ProduceConsumeCommit = Common + """
            topic, group = sys.argv[5], sys.argv[6]
            p = Producer(conf)
            p.produce(topic, b'from-python')
            p.flush(30)
            c = Consumer(dict(conf, **{'group.id': group, 'auto.offset.reset': 'earliest', 'enable.auto.commit': False}))
            c.subscribe([topic])
            got = None
            for _ in range(60):
                m = c.poll(1.0)
                if m is None: continue
                if m.error():
                    print('error:', m.error().name()); sys.exit(1)
                got = m; break
            if got is None: print('nothing consumed'); sys.exit(1)
            try:
                c.commit(message=got, asynchronous=False)
            except KafkaException as e:
                print('commit error:', e.args[0].name()); sys.exit(1)
            print('committed', got.offset())
            c.close()
            """;
    }
}
