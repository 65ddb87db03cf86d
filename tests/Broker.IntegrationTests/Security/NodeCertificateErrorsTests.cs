using Broker.Server.Security;
using Xunit;

namespace Broker.IntegrationTests.Security;

/// <summary>`broker node` with bad TLS files exits at once with one line naming the setting and the fix, and `broker certs` reports its own mistakes the same way.</summary>
public sealed class NodeCertificateErrorsTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "broker-cert-errors-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => TlsClusterFixture.DeleteQuietly(_root);

    private async Task<(int ExitCode, string Stdout, string Stderr)> NodeAsync(params string[] tls) =>
        await CliProcess.RunAsync(null, TimeSpan.FromSeconds(60),
            ["node", "--port", BrokerProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), "--no-kafka", "--no-http", "--data-dir", Path.Combine(_root, "data"), .. tls]);

    [Fact]
    public async Task A_wrong_path_to_the_node_certificate_stops_the_node_naming_the_setting()
    {
        var certs = new CertificateFiles(Path.Combine(_root, "certs"));
        certs.CreateCas(TimeSpan.FromDays(1), overwrite: false);
        var (exit, _, stderr) = await NodeAsync("--cluster-ca", certs.ClusterCa, "--node-cert", Path.Combine(_root, "typo.pem"), "--node-key", "typo.key");
        Assert.Equal(1, exit);
        Assert.Contains("broker.security.node-cert", stderr);
        Assert.Contains("does not exist", stderr);
    }

    [Fact]
    public async Task A_key_that_does_not_match_stops_the_node()
    {
        var certs = new CertificateFiles(Path.Combine(_root, "certs"));
        certs.CreateCas(TimeSpan.FromDays(1), overwrite: false);
        var one = certs.IssueNode("1", [], TimeSpan.FromDays(1), null, false);
        var two = certs.IssueNode("2", [], TimeSpan.FromDays(1), null, false);
        var (exit, _, stderr) = await NodeAsync("--cluster-ca", certs.ClusterCa, "--node-cert", one.Certificate, "--node-key", two.Key);
        Assert.Equal(1, exit);
        Assert.Contains("is not the private key", stderr);
    }

    [Fact]
    public async Task A_client_certificate_as_node_certificate_stops_the_node()
    {
        var certs = new CertificateFiles(Path.Combine(_root, "certs"));
        certs.CreateCas(TimeSpan.FromDays(1), overwrite: false);
        var alice = certs.IssueClient("alice", TimeSpan.FromDays(1), null, false);
        var (exit, _, stderr) = await NodeAsync("--cluster-ca", certs.ClusterCa, "--node-cert", alice.Certificate, "--node-key", alice.Key);
        Assert.Equal(1, exit);
        Assert.Contains("does not chain", stderr);
    }

    [Fact]
    public async Task Certs_without_a_CA_names_create_ca()
    {
        var (exit, _, stderr) = await CliProcess.RunAsync(null, TimeSpan.FromSeconds(30), "certs", "node", "1", "--dir", Path.Combine(_root, "empty"));
        Assert.Equal(1, exit);
        Assert.Contains("broker certs create-ca", stderr);
    }

    [Fact]
    public async Task Certs_writes_a_CA_and_a_node_certificate_that_a_node_accepts()
    {
        var dir = Path.Combine(_root, "made");
        var (ca, caOut, caErr) = await CliProcess.RunAsync(null, TimeSpan.FromSeconds(30), "certs", "create-ca", "--dir", dir);
        Assert.True(ca == 0, caErr);
        Assert.Contains("cluster-ca.pem", caOut);
        var (node, _, nodeErr) = await CliProcess.RunAsync(null, TimeSpan.FromSeconds(30), "certs", "node", "1", "--dir", dir, "--host", "127.0.0.1");
        Assert.True(node == 0, nodeErr);
        var files = new CertificateFiles(dir);
        var tls = ClusterTls.Load(new ClusterTlsSettings(files.ClusterCa, Path.Combine(dir, "node-1.pem"), Path.Combine(dir, "node-1.key")), DateTimeOffset.UtcNow);
        Assert.Equal("node-1", CertificateChains.CommonName(tls.NodeCertificate));
    }
}
