using System.Buffers.Binary;
using System.Net;
using Broker.Server.Controller;
using Broker.Server.Controller.Quorum;
using Broker.Server.Metadata;
using Broker.Server.Security;
using Broker.Server.Security.Authorization;
using Broker.Tests;
using Xunit;

namespace Broker.Server.Tests.Controller.Quorum;

/// <summary>
/// The metadata quorum's two ports (DotNext's Raft transport and the controller channel) with mutual TLS between
/// nodes: voters with node certificates elect and commit; a stranger's garbage, a TLS client with a self-signed or a
/// client-CA certificate, and a well-formed controller-channel frame proposing an ACL and a user reach nothing at
/// either port of any voter, and the quorum keeps committing. Without TLS the same frame is committed: the hole that
/// makes those ports private-network only.
/// </summary>
public sealed class QuorumTlsTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private static readonly AclBinding MalloryIsSuper = new(ResourceType.Cluster, AclBinding.ClusterName, PatternType.Literal, "User:mallory", "*", AclOperation.All, AclPermissionType.Allow);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "broker-quorum-tls-" + Guid.NewGuid().ToString("N"));
    private readonly CertificateFiles _certs;

    public QuorumTlsTests()
    {
        _certs = new CertificateFiles(_root);
        _certs.CreateCas(TimeSpan.FromDays(1), overwrite: false);
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    /// <summary>Three voters, each with its controller channel on a known port; with node certificates when <paramref name="tls"/>.</summary>
    private async Task<QuorumTestCluster> StartAsync(bool tls)
    {
        var cluster = new QuorumTestCluster();
        for (var i = 0; i < cluster.Settings.Length; i++)
        {
            var id = cluster.Settings[i].NodeId;
            cluster.Settings[i] = cluster.Settings[i] with
            {
                ControllerEndpoint = new IPEndPoint(IPAddress.Loopback, TestPorts.Free()),
                Tls = tls ? NodeTls(id) : null,
            };
        }
        await cluster.StartAsync(1, 2, 3);
        await cluster.LeaderAsync(Deadline);
        return cluster;
    }

    private ClusterTls NodeTls(int id)
    {
        var node = _certs.IssueNode(id.ToString(System.Globalization.CultureInfo.InvariantCulture), ["127.0.0.1"], TimeSpan.FromDays(1), null, overwrite: true);
        return ClusterTls.Load(new ClusterTlsSettings(_certs.ClusterCa, node.Certificate, node.Key), DateTimeOffset.UtcNow);
    }

    /// <summary>What a stranger who knows the format sends the controller channel: PutEntries granting User:mallory All on the cluster, and one adding user mallory.</summary>
    private static byte[][] ForgedProposals() =>
    [
        Frame(new PutEntries(MetadataMaps.Acls.Name, [new EntryChange(MalloryIsSuper.Key, null, MetadataMaps.Acls.Encode(MalloryIsSuper.Key, new AclEntry(MalloryIsSuper, 1, false)))])),
        Frame(new PutEntries(MetadataMaps.Users.Name, [new EntryChange("mallory", null, MetadataMaps.Users.Encode("mallory", new UserEntry("mallory", [], 1, false)))])),
    ];

    private static byte[] Frame(MetadataRecord record)
    {
        var payload = MetadataCodec.Encode(record);
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, payload.Length);
        payload.CopyTo(frame, 4);
        return frame;
    }

    /// <summary>Every probe of a stranger at <paramref name="port"/>; each must end without an answer.</summary>
    private async Task AssertStrangersReachNothingAsync(int port, string what)
    {
        using var clientCa = PemFiles.LoadWithKey(_certs.ClientCa, _certs.ClientCaKey, "client CA", "key", DateTimeOffset.UtcNow);
        using var clientCaNode = DevCertificates.IssueNode(clientCa, "evil", ["127.0.0.1"], TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
        Assert.True(await Strangers.PlainIsUnansweredAsync(port, Strangers.Garbage()), $"{what} answered garbage");
        foreach (var forged in ForgedProposals())
        {
            Assert.True(await Strangers.PlainIsUnansweredAsync(port, forged), $"{what} answered a plain forged proposal");
            Assert.True(await Strangers.SelfSignedTlsIsUnansweredAsync(port, forged), $"{what} answered a forged proposal over TLS with a self-signed certificate");
            Assert.True(await Strangers.TlsIsUnansweredAsync(port, forged, clientCaNode), $"{what} answered a forged proposal over TLS with a client-CA certificate named like a node");
        }
    }

    /// <summary>The quorum still commits (a proposal on every voter, two of them forwarded over the TLS channel) and no voter holds mallory's ACL or user.</summary>
    private static async Task AssertCommitsAndHoldsNoForgeryAsync(QuorumTestCluster cluster, int firstBrokerId)
    {
        foreach (var voter in cluster.Running)
        {
            Assert.IsType<BrokerRegistered>(await QuorumTestCluster.ProposeAsync(voter, new RegisterBroker(firstBrokerId + voter.NodeId, Guid.NewGuid(), -1)));
        }
        foreach (var voter in cluster.Running)
        {
            using var cts = new CancellationTokenSource(Deadline);
            var image = await voter.ReadAsync(cts.Token);
            Assert.Contains(firstBrokerId + 3, image.Brokers.Keys);
            Assert.Empty(image.Map(MetadataMaps.Acls.Name));
            Assert.Empty(image.Map(MetadataMaps.Users.Name));
        }
    }

    [Fact]
    public async Task A_voter_sends_no_proposal_to_a_controller_channel_whose_certificate_is_not_from_the_cluster_CA()
    {
        // An impostor listening at the controller's address with a node certificate of its own CA: the forwarding voter's
        // handshake refuses it (HandshakeFailed, nothing sent: it looks the controller up again) and names the reason.
        var other = new CertificateFiles(Path.Combine(_root, "other"));
        other.CreateCas(TimeSpan.FromDays(1), overwrite: false);
        var impostorFiles = other.IssueNode("1", ["127.0.0.1"], TimeSpan.FromDays(1), null, overwrite: false);
        var impostor = ClusterTls.Load(new ClusterTlsSettings(other.ClusterCa, impostorFiles.Certificate, impostorFiles.Key), DateTimeOffset.UtcNow);
        var received = 0;
        await using var channel = new ControllerChannel(new IPEndPoint(IPAddress.Loopback, 0), (request, _) =>
        {
            Interlocked.Increment(ref received);
            return Task.FromResult(request);
        }, impostor.ServerOptions(_ => { }));
        channel.Start();
        var refusals = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var outcome = await ControllerChannel.SendAsync(channel.Endpoint, ForgedProposals()[0][4..], NodeTls(2).ClientOptions(refusals.Enqueue), CancellationToken.None);
        Assert.IsType<ControllerChannel.HandshakeFailed>(outcome);
        Assert.Equal(0, received);
        Assert.Contains(refusals, r => r.Contains("does not chain", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Voters_with_node_certificates_elect_and_commit_over_TLS_including_forwarded_proposals()
    {
        await using var cluster = await StartAsync(tls: true);
        await AssertCommitsAndHoldsNoForgeryAsync(cluster, 100);
    }

    [Fact]
    public async Task Without_TLS_a_strangers_forged_proposal_at_the_controller_channel_is_committed()
    {
        // Why the quorum's ports must be on a private network when TLS between nodes is off (docs/security.md); and
        // proof that the forged frames the TLS tests send are ones a voter would act on.
        await using var cluster = await StartAsync(tls: false);
        var leader = await cluster.LeaderAsync(Deadline);
        foreach (var forged in ForgedProposals())
        {
            Assert.False(await Strangers.PlainIsUnansweredAsync(cluster.Settings[leader.NodeId - 1].ControllerEndpoint.Port, forged), "the plain channel answered nothing");
        }
        using var cts = new CancellationTokenSource(Deadline);
        var image = await leader.ReadAsync(cts.Token);
        Assert.Contains(MalloryIsSuper.Key, image.Map(MetadataMaps.Acls.Name).Keys);
        Assert.Contains("mallory", image.Map(MetadataMaps.Users.Name).Keys);
    }

    [Fact]
    public async Task Strangers_at_the_controller_channel_of_a_TLS_quorum_reach_nothing_and_it_keeps_committing()
    {
        await using var cluster = await StartAsync(tls: true);
        foreach (var settings in cluster.Settings)
        {
            await AssertStrangersReachNothingAsync(settings.ControllerEndpoint.Port, $"voter {settings.NodeId}'s controller channel");
        }
        await AssertCommitsAndHoldsNoForgeryAsync(cluster, 200);
    }

    [Fact]
    public async Task Strangers_at_the_Raft_port_of_a_TLS_quorum_reach_nothing_and_it_keeps_committing()
    {
        await using var cluster = await StartAsync(tls: true);
        foreach (var settings in cluster.Settings)
        {
            await AssertStrangersReachNothingAsync(settings.Self.Endpoint.Port, $"voter {settings.NodeId}'s Raft port");
        }
        await AssertCommitsAndHoldsNoForgeryAsync(cluster, 300);
    }
}
