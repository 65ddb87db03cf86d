using System.Security.Cryptography.X509Certificates;
using Broker.Server.Security;
using Broker.Tests;
using Xunit;

namespace Broker.IntegrationTests.Security;

/// <summary>
/// Mutual TLS between nodes, with real processes: three nodes with cluster-CA certificates and a metadata quorum form a cluster; a node with a
/// client-CA certificate, one with a self-signed CA, one without TLS, raw garbage and a TLS client with a self-signed
/// certificate all reach nothing, at the Akka.Remote port and at the metadata quorum's ports, and the nodes keep serving
/// (an acks=all produce needs both replicas).
/// </summary>
[Collection(Replication.ClusterCollection.Name)]
public sealed class ClusterTlsTests(TlsClusterFixture cluster) : IClassFixture<TlsClusterFixture>
{
    private const string Refused = "refused a TLS peer";
    private const string Rejected = "due to TLS handshake failure";
    private const string QuorumRefused = "metadata quorum: refused a peer's certificate";
    private const string ChannelRefused = "controller channel: refused a connection";

    [Fact]
    public async Task Three_nodes_with_cluster_CA_certificates_and_voters_form_a_cluster_and_replicate()
    {
        Assert.Equal(TlsClusterFixture.Size, await cluster.UpMembersAsync());
        Assert.Contains("akka.ssl.tcp://broker@", cluster.Seed.Output);
        // The fixture's topic was committed by the quorum over its TLS ports; no voter refused another (strangers probe only the seed).
        Assert.All(new[] { cluster.Worker, cluster.Third }, node => Assert.DoesNotContain(QuorumRefused, node.Output));
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
        Assert.Equal(TlsClusterFixture.Size, await cluster.UpMembersAsync());
        Assert.DoesNotContain("node ready", stranger.Output);
        await cluster.AssertServesAsync();
    }

    [Fact]
    public async Task Raw_TCP_garbage_reaches_nothing()
    {
        var before = TlsClusterFixture.Count(cluster.Seed, Rejected);
        Assert.True(await Strangers.PlainIsUnansweredAsync(cluster.Seed.Port, Strangers.Garbage()), "the node answered garbage");
        await TlsClusterFixture.WaitForMoreAsync(cluster.Seed, Rejected, before, "the seed logs the rejected connection");
        await cluster.AssertServesAsync();
    }

    [Fact]
    public async Task A_TLS_client_with_a_self_signed_certificate_reaches_nothing()
    {
        var before = TlsClusterFixture.Count(cluster.Seed, Refused);
        Assert.True(await Strangers.SelfSignedTlsIsUnansweredAsync(cluster.Seed.Port, [0, 0, 0, 4, 1, 2, 3, 4]), "the node answered a TLS client with a self-signed certificate");
        await TlsClusterFixture.WaitForMoreAsync(cluster.Seed, Refused, before, "the seed logs the refused certificate");
        await cluster.AssertServesAsync();
    }

    [Fact]
    public async Task Strangers_at_the_metadata_quorums_Raft_port_and_controller_channel_reach_nothing()
    {
        // The in-process QuorumTlsTests show that a forged PutEntries is refused and what it would do without TLS; here
        // the real nodes' ports: garbage, a hand-crafted Akka.Remote frame (JSON serializer id 1, a $type), TLS with a
        // self-signed certificate. Each voter refuses each, and the quorum still commits (a new topic) and serves.
        var seed = cluster.Seed;
        var refusedBefore = TlsClusterFixture.Count(seed, QuorumRefused);
        var channelBefore = TlsClusterFixture.Count(seed, ChannelRefused);
        foreach (var (port, what) in new[] { (cluster.RaftPorts[0], "Raft port"), (cluster.ControllerPorts[0], "controller channel") })
        {
            Assert.True(await Strangers.PlainIsUnansweredAsync(port, Strangers.Garbage()), $"the {what} answered garbage");
            Assert.True(await Strangers.PlainIsUnansweredAsync(port, Strangers.JsonTypeFrame()), $"the {what} answered an Akka.Remote frame");
            Assert.True(await Strangers.SelfSignedTlsIsUnansweredAsync(port, Strangers.JsonTypeFrame()), $"the {what} answered a TLS client with a self-signed certificate");
        }
        await TlsClusterFixture.WaitForMoreAsync(seed, QuorumRefused, refusedBefore + 1, "the seed's quorum logs the refused certificates at both ports");
        await TlsClusterFixture.WaitForMoreAsync(seed, ChannelRefused, channelBefore + 2, "the seed's controller channel logs the three refused connections");
        using var admin = new Confluent.Kafka.AdminClientBuilder(new Confluent.Kafka.AdminClientConfig { BootstrapServers = cluster.Worker.KafkaBootstrap }).Build();
        await admin.CreateTopicsAsync([new Confluent.Kafka.Admin.TopicSpecification { Name = "after-quorum-strangers", NumPartitions = 1, ReplicationFactor = 3 }]);
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
        Assert.Equal(TlsClusterFixture.Size, await cluster.UpMembersAsync());
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
        Assert.Equal(TlsClusterFixture.Size, await cluster.UpMembersAsync());
        await cluster.AssertServesAsync();
    }
}
