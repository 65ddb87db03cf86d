using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Broker.Server.Security;
using Xunit;

namespace Broker.Server.Tests.Security;

/// <summary>Who may be a cluster member: only a CN=node-* certificate issued by the cluster CA.</summary>
public sealed class PeerCertificateTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private static readonly X509Certificate2 ClusterCa = DevCertificates.CreateCa("test cluster CA", TimeSpan.FromDays(2), Now);
    private static readonly X509Certificate2 ClientCa = DevCertificates.CreateCa("test client CA", TimeSpan.FromDays(2), Now);

    [Fact]
    public void A_node_certificate_from_the_cluster_CA_is_accepted()
    {
        using var node = DevCertificates.IssueNode(ClusterCa, "1", [], TimeSpan.FromDays(1), Now);
        Assert.IsType<PeerVerdict.Accepted>(CertificateChains.CheckNode(node, ClusterCa));
    }

    [Fact]
    public void A_client_certificate_is_never_a_node()
    {
        using var client = DevCertificates.IssueClient(ClientCa, "alice", TimeSpan.FromDays(1), Now);
        var refused = Assert.IsType<PeerVerdict.Refused>(CertificateChains.CheckNode(client, ClusterCa));
        Assert.Contains("does not chain", refused.Reason);
    }

    [Fact]
    public void A_node_named_certificate_from_the_client_CA_is_refused()
    {
        using var forged = DevCertificates.IssueNode(ClientCa, "1", [], TimeSpan.FromDays(1), Now);
        Assert.IsType<PeerVerdict.Refused>(CertificateChains.CheckNode(forged, ClusterCa));
    }

    [Fact]
    public void A_self_signed_node_certificate_is_refused()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var self = new CertificateRequest("CN=node-1", key, HashAlgorithmName.SHA256).CreateSelfSigned(Now.AddMinutes(-1), Now.AddDays(1));
        Assert.IsType<PeerVerdict.Refused>(CertificateChains.CheckNode(self, ClusterCa));
    }

    [Fact]
    public void A_cluster_CA_certificate_that_does_not_name_a_node_is_refused()
    {
        using var other = DevCertificates.IssueClient(ClusterCa, "alice", TimeSpan.FromDays(1), Now);
        var refused = Assert.IsType<PeerVerdict.Refused>(CertificateChains.CheckNode(other, ClusterCa));
        Assert.Contains("does not name a node", refused.Reason);
    }

    [Fact]
    public void An_expired_node_certificate_is_refused()
    {
        using var old = DevCertificates.IssueNode(ClusterCa, "1", [], TimeSpan.FromMinutes(1), Now.AddDays(-1));
        Assert.IsType<PeerVerdict.Refused>(CertificateChains.CheckNode(old, ClusterCa));
    }

    [Fact]
    public void No_certificate_is_refused() =>
        Assert.IsType<PeerVerdict.Refused>(CertificateChains.CheckNode(null, ClusterCa));
}
