using Akka.Configuration;
using Broker.Server.Security;
using Xunit;

namespace Broker.Server.Tests.Security;

/// <summary>A node checks its own TLS files before it listens: every mistake stops the start with a message naming the fix.</summary>
public sealed class ClusterTlsLoadTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "broker-tls-load-" + Guid.NewGuid().ToString("N"));
    private readonly CertificateFiles _files;

    public ClusterTlsLoadTests()
    {
        _files = new CertificateFiles(_dir);
        _files.CreateCas(TimeSpan.FromDays(2), overwrite: false);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TLS_is_off_unless_cluster_ca_is_set() =>
        Assert.Null(ClusterTlsSettings.Create(ConfigurationFactory.ParseString("cluster-ca = \"\", node-cert = \"\", node-key = \"\"")));

    [Fact]
    public void A_cluster_ca_without_the_node_files_names_them()
    {
        var ex = Assert.Throws<ConfigurationException>(() => ClusterTlsSettings.Create(ConfigurationFactory.ParseString("cluster-ca = \"ca.pem\", node-cert = \"\", node-key = \"\"")));
        Assert.Contains("--node-cert", ex.Message);
    }

    [Fact]
    public void Node_files_without_a_cluster_ca_name_it()
    {
        var ex = Assert.Throws<ConfigurationException>(() => ClusterTlsSettings.Create(ConfigurationFactory.ParseString("cluster-ca = \"\", node-cert = \"n.pem\", node-key = \"n.key\"")));
        Assert.Contains("--cluster-ca", ex.Message);
    }

    [Fact]
    public void A_node_certificate_from_the_cluster_CA_loads()
    {
        var node = _files.IssueNode("1", [], TimeSpan.FromDays(1), null, false);
        var tls = ClusterTls.Load(new ClusterTlsSettings(_files.ClusterCa, node.Certificate, node.Key), DateTimeOffset.UtcNow);
        Assert.Equal("node-1", CertificateChains.CommonName(tls.NodeCertificate));
        Assert.True(tls.Setup().RequireMutualAuthentication);
        Assert.False(tls.Setup().SuppressValidation);
    }

    [Fact]
    public void A_node_certificate_from_another_CA_is_refused_at_start()
    {
        var node = _files.IssueNode("1", [], TimeSpan.FromDays(1), null, false);
        var ex = Assert.Throws<CertificateException>(() => ClusterTls.Load(new ClusterTlsSettings(_files.ClientCa, node.Certificate, node.Key), DateTimeOffset.UtcNow));
        Assert.Equal(CertificateError.NotIssuedByCa, ex.Error);
        Assert.Contains("broker certs node", ex.Message);
    }

    [Fact]
    public void A_client_certificate_configured_as_the_node_certificate_is_refused_at_start()
    {
        var client = _files.IssueClient("alice", TimeSpan.FromDays(1), null, false);
        var ex = Assert.Throws<CertificateException>(() => ClusterTls.Load(new ClusterTlsSettings(_files.ClientCa, client.Certificate, client.Key), DateTimeOffset.UtcNow));
        Assert.Equal(CertificateError.WrongSubject, ex.Error);
    }

    [Fact]
    public void A_node_certificate_given_as_the_cluster_CA_is_refused_at_start()
    {
        var node = _files.IssueNode("1", [], TimeSpan.FromDays(1), null, false);
        var ex = Assert.Throws<CertificateException>(() => ClusterTls.Load(new ClusterTlsSettings(node.Certificate, node.Certificate, node.Key), DateTimeOffset.UtcNow));
        Assert.Equal(CertificateError.NotACa, ex.Error);
    }

    [Fact]
    public void An_expired_node_certificate_is_refused_at_start()
    {
        var node = _files.IssueNode("1", [], TimeSpan.FromDays(1), null, false);
        var ex = Assert.Throws<CertificateException>(() => ClusterTls.Load(new ClusterTlsSettings(_files.ClusterCa, node.Certificate, node.Key), DateTimeOffset.UtcNow.AddDays(1.5)));
        Assert.Equal(CertificateError.Expired, ex.Error);
    }

    [Fact]
    public void A_wrong_path_to_the_node_key_is_refused_at_start()
    {
        var node = _files.IssueNode("1", [], TimeSpan.FromDays(1), null, false);
        var ex = Assert.Throws<CertificateException>(() => ClusterTls.Load(new ClusterTlsSettings(_files.ClusterCa, node.Certificate, node.Key + ".typo"), DateTimeOffset.UtcNow));
        Assert.Equal(CertificateError.FileNotFound, ex.Error);
        Assert.Contains("broker.security.node-key", ex.Message);
    }
}
