using Broker.Client;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Security;
using Xunit;

namespace Broker.IntegrationTests.Security;

/// <summary>
/// TLS on the client door (broker.client-door.tls) of a real node on a TLS cluster: the door presents the node
/// certificate and requires client certificates from the client CA. A client that trusts the cluster CA and has a
/// client certificate works (library and CLI); one without a certificate, or trusting another CA, fails with an error
/// naming the fix, and the door keeps serving. One node for the whole class.
/// </summary>
[Collection(Replication.ClusterCollection.Name)]
public sealed class NativeDoorTlsTests(NativeDoorTlsTests.Node node) : IClassFixture<NativeDoorTlsTests.Node>
{
    private readonly string _root = node.Root;
    private readonly CertificateFiles _certs = node.Certs;
    private readonly CertificateFiles.Issued _client = node.ClientCertificate;
    private readonly string _door = node.Door;
    private readonly BrokerProcess _process = node.Process;

    /// <summary>The one node of the class, started once (xUnit makes a test class instance per test).</summary>
    public sealed class Node : IAsyncLifetime
    {
        public string Root { get; } = Path.Combine(Path.GetTempPath(), "broker-door-tls-" + Guid.NewGuid().ToString("N"));
        public BrokerProcess Process { get; private set; } = null!;
        public CertificateFiles Certs { get; private set; } = null!;
        public CertificateFiles.Issued ClientCertificate { get; private set; } = null!;
        public string Door { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Certs = new CertificateFiles(Path.Combine(Root, "certs"));
            Certs.CreateCas(TimeSpan.FromDays(1), overwrite: false);
            var node = Certs.IssueNode("1", ["127.0.0.1"], TimeSpan.FromDays(1), null, false);
            ClientCertificate = Certs.IssueClient("alice", TimeSpan.FromDays(1), null, false);
            var doorPort = BrokerProcess.FreePort();
            Door = $"127.0.0.1:{doorPort}";
            var conf = Path.Combine(Root, "door-tls.conf");
            await File.WriteAllTextAsync(conf, $$"""
                broker.client-door {
                  enabled = on, port = {{doorPort}}
                  tls { enabled = on, client-auth = required, client-ca = "{{Certs.ClientCa}}" }
                }
                """);
            Process = await BrokerProcess.StartNodeAsync(Path.Combine(Root, "n1"), timeout: TimeSpan.FromSeconds(90),
                extraArgs: [.. TlsClusterFixture.TlsArgs(Certs.ClusterCa, node), "--config", conf]);
            Assert.Contains("akka.ssl.tcp://broker@127.0.0.1:" + doorPort, Process.Output);
        }

        public Task DisposeAsync()
        {
            Process.Dispose();
            TlsClusterFixture.DeleteQuietly(Root);
            return Task.CompletedTask;
        }
    }

    /// <summary>A refused client gives up after 5 s; one that should work waits up to 15 s (a new ActorSystem and a TLS handshake on a loaded machine).</summary>
    private ClientConfig Trusting(string ca, bool withCertificate, bool refused = true) => new()
    {
        BootstrapServers = _door, RequestTimeout = TimeSpan.FromSeconds(15), ConnectTimeout = TimeSpan.FromSeconds(refused ? 5 : 15), SslCaLocation = ca,
        SslCertificateLocation = withCertificate ? _client.Certificate : null, SslKeyLocation = withCertificate ? _client.Key : null,
    };

    /// <summary>The door still serves a client with the right CA and a client certificate: creates a topic and produces to it.</summary>
    private async Task AssertServesAsync(string topic)
    {
        await using (var admin = new AdminClient(Trusting(_certs.ClusterCa, withCertificate: true, refused: false)))
        {
            var created = Assert.Single(await admin.CreateTopicsAsync([new TopicSpec(topic, 1, 1, new Dictionary<string, string>())]));
            Assert.Equal(ErrorCode.None, created.Error);
        }
        var producing = new ProducerConfig { BootstrapServers = _door, Acks = Acks.All, LingerMs = 0, RequestTimeout = TimeSpan.FromSeconds(15), ConnectTimeout = TimeSpan.FromSeconds(15), SslCaLocation = _certs.ClusterCa,
            SslCertificateLocation = _client.Certificate, SslKeyLocation = _client.Key };
        await using var producer = new Producer(producing);
        Assert.True((await producer.ProduceAsync(topic, 0, new Message { Value = "encrypted"u8.ToArray() })).Offset >= 0);
    }

    [Fact]
    public async Task A_client_trusting_the_door_CA_with_a_client_certificate_creates_topics_and_produces()
    {
        await AssertServesAsync("tls-orders");
    }

    [Fact]
    public async Task A_client_without_a_certificate_is_refused_naming_the_fix_and_the_door_keeps_serving()
    {
        await using (var admin = new AdminClient(Trusting(_certs.ClusterCa, withCertificate: false)))
        {
            var error = await Assert.ThrowsAsync<BrokerException>(() => admin.GetMetadataAsync());
            Assert.True(error.Error is ErrorCode.AuthenticationFailed or ErrorCode.BrokerNotAvailable, error.ToString());
            Assert.Contains("SslCertificateLocation", error.Message);
        }
        await AssertServesAsync("tls-after-no-certificate");
    }

    [Fact]
    public async Task A_client_trusting_another_CA_fails_with_AuthenticationFailed_and_the_door_keeps_serving()
    {
        var other = new CertificateFiles(Path.Combine(_root, "other-ca"));
        other.CreateCas(TimeSpan.FromDays(1), overwrite: false);
        await using (var admin = new AdminClient(Trusting(other.ClusterCa, withCertificate: true)))
        {
            var error = await Assert.ThrowsAsync<BrokerException>(() => admin.GetMetadataAsync());
            Assert.Equal(ErrorCode.AuthenticationFailed, error.Error);
            Assert.Contains("does not chain to the CA in SslCaLocation", error.Message);
        }
        await AssertServesAsync("tls-after-other-ca");
    }

    [Fact]
    public async Task Garbage_a_self_signed_TLS_client_and_a_hand_crafted_Akka_frame_at_the_door_reach_nothing()
    {
        var port = int.Parse(_door[(_door.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var before = TlsClusterFixture.Count(_process, "due to TLS handshake failure");
        Assert.True(await Broker.Tests.Strangers.PlainIsUnansweredAsync(port, Broker.Tests.Strangers.Garbage()), "the door answered garbage");
        Assert.True(await Broker.Tests.Strangers.PlainIsUnansweredAsync(port, Broker.Tests.Strangers.JsonTypeFrame()), "the door answered a JSON-tagged Akka frame");
        Assert.True(await Broker.Tests.Strangers.SelfSignedTlsIsUnansweredAsync(port, Broker.Tests.Strangers.JsonTypeFrame()), "the door answered a TLS client with a self-signed certificate");
        await TlsClusterFixture.WaitForMoreAsync(_process, "due to TLS handshake failure", before + 2, "the door logs the three rejected connections");
        await AssertServesAsync("tls-after-strangers");
    }

    [Fact]
    public async Task The_CLI_takes_the_TLS_files_from_command_config()
    {
        var properties = Path.Combine(_root, "tls.properties");
        await File.WriteAllLinesAsync(properties,
            ["security.protocol=SSL", $"ssl.ca.location={_certs.ClusterCa}", $"ssl.certificate.location={_client.Certificate}", $"ssl.key.location={_client.Key}"]);
        var (exit, output, errors) = await CliProcess.RunAsync(null, TimeSpan.FromSeconds(60), "topics", "create", "tls-cli", "--partitions", "1", "--replication-factor", "1", "--bootstrap", _door, "--command-config", properties);
        Assert.True(exit == 0, output + errors);
    }

    /// <summary>
    /// Akka.NET runs CoordinatedShutdown (exit code 79) when an OUTBOUND TLS handshake fails. A client provokes the door
    /// into one by naming as its reply address a port that closes every connection: the door connects there to answer,
    /// its handshake fails, and it must go on serving (broker.client-door runs with terminate-actor-system = off).
    /// </summary>
    [Fact]
    public async Task A_client_that_makes_the_door_connect_to_a_non_TLS_address_does_not_stop_the_door()
    {
        using var closer = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closer.Start();
        using var stop = new CancellationTokenSource();
        var closing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var socket = await closer.AcceptSocketAsync(stop.Token);
                socket.Close();
            }
        });
        var closerPort = ((System.Net.IPEndPoint)closer.LocalEndpoint).Port;
        using var pem = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(_client.Certificate, _client.Key);
        var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(pem.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12), null);
        var config = Akka.Configuration.ConfigurationFactory.ParseString("""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0, enable-ssl = on, ssl { suppress-validation = on, require-mutual-authentication = on } }
            akka.coordinated-shutdown { run-by-actor-system-terminate = off, terminate-actor-system = off }
            """).WithFallback(Broker.Protocol.Serialization.ProtocolConfig.Default);
        var setup = Akka.Actor.Setup.ActorSystemSetup.Create(Akka.Actor.BootstrapSetup.Create().WithConfig(config),
            new Akka.Remote.Transport.DotNetty.DotNettySslSetup(certificate, suppressValidation: true, requireMutualAuthentication: true));
        using (var rogue = Akka.Actor.ActorSystem.Create("rogue", setup))
        {
            var before = TlsClusterFixture.Count(_process, "TLS handshake failed on channel");
            var madeUp = ((Akka.Actor.ExtendedActorSystem)rogue).Provider.ResolveActorRef($"akka.ssl.tcp://rogue@127.0.0.1:{closerPort}/user/nobody");
            rogue.ActorSelection($"akka.ssl.tcp://broker@{_door}/user/{Wellknown.GatewayName}").Tell(new LoginRequest("mallory", "guess"), madeUp);
            await TlsClusterFixture.WaitForMoreAsync(_process, "TLS handshake failed on channel", before, "the door tries to answer at the made-up address");
            await rogue.Terminate();
        }
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => closing);
        await AssertServesAsync("tls-after-outbound-failure");
    }
}
