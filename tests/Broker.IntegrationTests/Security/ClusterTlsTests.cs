using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Broker.Server.Security;
using Xunit;

namespace Broker.IntegrationTests.Security;

/// <summary>
/// Mutual TLS between nodes, with real processes: two nodes with cluster-CA certificates form a cluster; a node with a
/// client-CA certificate, one with a self-signed CA, one without TLS, raw garbage and a TLS client with a self-signed
/// certificate all reach nothing, and the two nodes keep serving (an acks=all produce needs both replicas).
/// </summary>
[Collection(Replication.ClusterCollection.Name)]
public sealed class ClusterTlsTests(TlsClusterFixture cluster) : IClassFixture<TlsClusterFixture>
{
    private const string Refused = "refused a TLS peer";
    private const string Rejected = "due to TLS handshake failure";

    [Fact]
    public async Task Two_nodes_with_cluster_CA_certificates_form_a_cluster_and_replicate()
    {
        Assert.Equal(2, await cluster.UpMembersAsync());
        Assert.Contains("akka.ssl.tcp://broker@", cluster.Seed.Output);
        await cluster.AssertServesAsync();
    }

    [Fact]
    public async Task A_node_with_a_client_CA_certificate_cannot_join()
    {
        // A node certificate in every respect but its issuer: the client CA, which the stranger trusts as its own.
        using var clientCa = PemFiles.LoadWithKey(cluster.Certs.ClientCa, cluster.Certs.ClientCaKey, "client CA", "key", DateTimeOffset.UtcNow);
        using var cert = DevCertificates.IssueNode(clientCa, "evil", ["127.0.0.1"], TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
        await AssertStrangerIsRefusedAsync("client-ca", cluster.Certs.ClientCa, cert);
    }

    [Fact]
    public async Task A_node_with_a_self_signed_CA_cannot_join()
    {
        using var ownCa = DevCertificates.CreateCa("stranger CA", TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
        var caPath = Path.Combine(cluster.Root, "stranger-ca.pem");
        PemFiles.Write(ownCa, caPath, keyPath: null, overwrite: true);
        using var cert = DevCertificates.IssueNode(ownCa, "1", ["127.0.0.1"], TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
        await AssertStrangerIsRefusedAsync("self-signed", caPath, cert);
    }

    [Fact]
    public async Task A_node_without_TLS_cannot_join()
    {
        var before = TlsClusterFixture.Count(cluster.Seed, Rejected);
        using var stranger = await BrokerProcess.StartNodeAsync(Path.Combine(cluster.Root, "plain"), seed: cluster.Seed.Bootstrap, waitUntilUp: false);
        await TlsClusterFixture.WaitForMoreAsync(cluster.Seed, Rejected, before, "the seed rejects the plain node's connection");
        Assert.Equal(2, await cluster.UpMembersAsync());
        Assert.DoesNotContain("node ready", stranger.Output);
        await cluster.AssertServesAsync();
    }

    [Fact]
    public async Task Raw_TCP_garbage_reaches_nothing()
    {
        var before = TlsClusterFixture.Count(cluster.Seed, Rejected);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", cluster.Seed.Port);
        var stream = tcp.GetStream();
        // An Akka.Remote frame's length prefix, then bytes that are no TLS record.
        await stream.WriteAsync(new byte[] { 0, 0, 0, 40 }.Concat(RandomNumberGenerator.GetBytes(40)).ToArray());
        Assert.True(await ClosedWithoutAnswerAsync(stream), "the node answered garbage");
        await TlsClusterFixture.WaitForMoreAsync(cluster.Seed, Rejected, before, "the seed logs the rejected connection");
        await cluster.AssertServesAsync();
    }

    [Fact]
    public async Task A_TLS_client_with_a_self_signed_certificate_reaches_nothing()
    {
        var before = TlsClusterFixture.Count(cluster.Seed, Refused);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var self = new CertificateRequest("CN=node-1", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", cluster.Seed.Port);
        using var tls = new SslStream(tcp.GetStream());
        var reachedNothing = true;
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "127.0.0.1",
                ClientCertificates = [self],
                // The stranger does not know the cluster CA: it takes any certificate that names a node.
                RemoteCertificateValidationCallback = (_, serverCert, _, _) => serverCert?.Subject.Contains("CN=node-", StringComparison.Ordinal) == true,
            });
            // TLS 1.3 reports the server's refusal of a client certificate only on the first read.
            await tls.WriteAsync(new byte[] { 0, 0, 0, 4, 1, 2, 3, 4 });
            reachedNothing = await ClosedWithoutAnswerAsync(tls);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
        }
        Assert.True(reachedNothing, "the node answered a TLS client with a self-signed certificate");
        await TlsClusterFixture.WaitForMoreAsync(cluster.Seed, Refused, before, "the seed logs the refused certificate");
        await cluster.AssertServesAsync();
    }

    [Fact]
    public async Task A_forged_Join_with_a_members_address_and_a_forged_Down_from_an_unauthenticated_peer_change_nothing()
    {
        // The attacker: an Akka.NET cluster system advertising the worker's own host:port (a new uid for an existing
        // member's address), with a node-looking certificate from the client CA, which it trusts as the cluster's.
        using var clientCa = PemFiles.LoadWithKey(cluster.Certs.ClientCa, cluster.Certs.ClientCaKey, "client CA", "key", DateTimeOffset.UtcNow);
        using var cert = DevCertificates.IssueNode(clientCa, "2", ["127.0.0.1"], TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
        var readyBefore = TlsClusterFixture.Count(cluster.Worker, "node ready");
        var before = TlsClusterFixture.Count(cluster.Seed, Refused);
        var config = Akka.Configuration.ConfigurationFactory.ParseString($$"""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0, public-hostname = 127.0.0.1, public-port = {{cluster.Worker.Port}} }
            akka.cluster.seed-nodes = []
            akka.loglevel = WARNING
            """).WithFallback(ClusterTls.AkkaConfig);
        var ssl = new Akka.Remote.Transport.DotNetty.DotNettySslSetup(cert, suppressValidation: true, requireMutualAuthentication: true);
        var attacker = Akka.Actor.ActorSystem.Create("broker", Akka.Actor.Setup.ActorSystemSetup.Create(Akka.Actor.BootstrapSetup.Create().WithConfig(config), ssl));
        try
        {
            var seed = new Akka.Actor.Address("akka.ssl.tcp", "broker", "127.0.0.1", cluster.Seed.Port);
            var worker = new Akka.Actor.Address("akka.ssl.tcp", "broker", "127.0.0.1", cluster.Worker.Port);
            var daemon = attacker.ActorSelection(new Akka.Actor.RootActorPath(seed) / "system" / "cluster" / "core" / "daemon");
            // Akka.Cluster's own messages, built as an attacker would (they are internal): Join(member address, new uid), Down(worker).
            var clusterAssembly = typeof(Akka.Cluster.Cluster).Assembly;
            var uniqueAddress = new Akka.Cluster.UniqueAddress(worker, Random.Shared.Next());
            var joinType = clusterAssembly.GetType("Akka.Cluster.InternalClusterAction+Join", throwOnError: true)!;
            var join = joinType.GetConstructors()[0].GetParameters().Length == 3
                ? Activator.CreateInstance(joinType, uniqueAddress, System.Collections.Immutable.ImmutableHashSet<string>.Empty, Akka.Util.AppVersion.Zero)
                : Activator.CreateInstance(joinType, uniqueAddress, System.Collections.Immutable.ImmutableHashSet<string>.Empty);
            var down = Activator.CreateInstance(clusterAssembly.GetType("Akka.Cluster.ClusterUserAction+Down", throwOnError: true)!, worker);
            daemon.Tell(join);
            daemon.Tell(down);
            await TlsClusterFixture.WaitForMoreAsync(cluster.Seed, Refused, before, "the seed refuses the attacker's certificate");
        }
        finally
        {
            await attacker.Terminate();
        }
        // Nothing changed: the worker was neither replaced nor downed (it did not restart), both are Up and serving.
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Equal(2, await cluster.UpMembersAsync());
        Assert.Equal(readyBefore, TlsClusterFixture.Count(cluster.Worker, "node ready"));
        Assert.DoesNotContain("Marking node as DOWN", cluster.Seed.Output, StringComparison.OrdinalIgnoreCase);
        await cluster.AssertServesAsync();
    }

    /// <summary>
    /// Starts a real node that trusts <paramref name="caPath"/> and presents <paramref name="cert"/>, seeded at the TLS
    /// cluster: the seed refuses its certificate (and it refuses the seed's), it never becomes a member.
    /// </summary>
    private async Task AssertStrangerIsRefusedAsync(string name, string caPath, X509Certificate2 cert)
    {
        var certPath = Path.Combine(cluster.Root, name + ".pem");
        var keyPath = Path.Combine(cluster.Root, name + ".key");
        PemFiles.Write(cert, certPath, keyPath, overwrite: true);
        var conf = Path.Combine(cluster.Root, name + ".conf");
        await File.WriteAllTextAsync(conf, "broker.node.join-timeout = 2s\n");
        var before = TlsClusterFixture.Count(cluster.Seed, Refused);
        using var stranger = await BrokerProcess.StartNodeAsync(Path.Combine(cluster.Root, name), seed: cluster.Seed.Bootstrap, waitUntilUp: false,
            extraArgs: ["--cluster-ca", caPath, "--node-cert", certPath, "--node-key", keyPath, "--config", conf]);
        await TlsClusterFixture.WaitForMoreAsync(cluster.Seed, Refused, before, $"the seed refuses the {name} node's certificate");
        // Akka.Remote shuts down a node whose outbound handshake fails; the broker starts it again and says why.
        try
        {
            await Broker.Tests.Eventually.TrueAsync(() => Task.FromResult(stranger.HasExited || stranger.Output.Contains("TLS handshake it started with another node failed", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(60), $"the {name} node reports its failed handshake");
            Assert.False(stranger.HasExited, $"the {name} node exited instead of starting again");
        }
        catch (Exception ex) when (ex is TimeoutException or Xunit.Sdk.XunitException)
        {
            // Which way it went is only in the stranger's own output (CI stop 22 timed out here once, under load).
            throw new InvalidOperationException($"{ex.Message}; the {name} node's output:\n{stranger.Output}", ex);
        }
        Assert.DoesNotContain("node ready", stranger.Output);
        Assert.Equal(2, await cluster.UpMembersAsync());
        await cluster.AssertServesAsync();
    }

    /// <summary>True when the peer closes the stream without sending a byte (or resets it); false if it answers.</summary>
    private static async Task<bool> ClosedWithoutAnswerAsync(Stream stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[256];
        try
        {
            return await stream.ReadAsync(buffer, timeout.Token) == 0;
        }
        catch (Exception ex) when (ex is IOException or AuthenticationException or SocketException)
        {
            return true;
        }
    }
}
