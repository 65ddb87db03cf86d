using System.Security.Cryptography.X509Certificates;
using Broker.Server.Security;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Server.Tests.Security;

/// <summary>`broker certs`' files: what they contain, and a typed error naming the fix for every way they can be wrong.</summary>
public sealed class CertificateFilesTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 4, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "broker-certs-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _clock = new(Now);

    private CertificateFiles Files => new(_dir, _clock);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Node_certificate_chains_to_the_cluster_CA_names_a_node_and_loads_with_its_key()
    {
        Files.CreateCas(TimeSpan.FromDays(10), overwrite: false);
        var issued = Files.IssueNode("1", ["127.0.0.1", "broker-1"], TimeSpan.FromDays(5), pkcs12Password: null, overwrite: false);

        using var cert = PemFiles.LoadWithKey(issued.Certificate, issued.Key, "node-cert", "node-key", Now);
        using var ca = PemFiles.LoadCertificate(Files.ClusterCa, "cluster-ca");
        Assert.True(cert.HasPrivateKey);
        Assert.Equal("node-1", CertificateChains.CommonName(cert));
        Assert.Null(CertificateChains.ChainProblem(cert, ca, Now.UtcDateTime));
        var usages = cert.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value);
        Assert.Equal(["1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1"], usages);
    }

    [Fact]
    public void Client_certificate_comes_from_the_client_CA_and_does_not_chain_to_the_cluster_CA()
    {
        Files.CreateCas(TimeSpan.FromDays(10), overwrite: false);
        var issued = Files.IssueClient("alice", TimeSpan.FromDays(5), pkcs12Password: "pw", overwrite: false);

        using var cert = PemFiles.LoadWithKey(issued.Certificate, issued.Key, "cert", "key", Now);
        using var clientCa = PemFiles.LoadCertificate(Files.ClientCa, "client-ca");
        using var clusterCa = PemFiles.LoadCertificate(Files.ClusterCa, "cluster-ca");
        Assert.Equal("alice", CertificateChains.CommonName(cert));
        Assert.Null(CertificateChains.ChainProblem(cert, clientCa, Now.UtcDateTime));
        Assert.NotNull(CertificateChains.ChainProblem(cert, clusterCa, Now.UtcDateTime));
        Assert.True(File.Exists(issued.Pkcs12));
        var fromP12 = X509CertificateLoader.LoadPkcs12CollectionFromFile(issued.Pkcs12!, "pw");
        Assert.Equal(2, fromP12.Count);
    }

    [Fact]
    public void Create_ca_refuses_to_overwrite_an_existing_CA_without_force()
    {
        Files.CreateCas(TimeSpan.FromDays(10), overwrite: false);
        var ex = Assert.Throws<CertificateException>(() => Files.CreateCas(TimeSpan.FromDays(10), overwrite: false));
        Assert.Equal(CertificateError.AlreadyExists, ex.Error);
        Assert.Contains("--force", ex.Message);
        Files.CreateCas(TimeSpan.FromDays(10), overwrite: true);
    }

    [Fact]
    public void Issuing_without_a_CA_names_create_ca()
    {
        var ex = Assert.Throws<CertificateException>(() => Files.IssueNode("1", [], TimeSpan.FromDays(1), null, false));
        Assert.Equal(CertificateError.FileNotFound, ex.Error);
        Assert.Contains("broker certs create-ca", ex.Message);
    }

    [Fact]
    public void A_client_named_like_a_node_is_refused()
    {
        Files.CreateCas(TimeSpan.FromDays(10), overwrite: false);
        var ex = Assert.Throws<CertificateException>(() => Files.IssueClient("node-7", TimeSpan.FromDays(1), null, false));
        Assert.Equal(CertificateError.WrongSubject, ex.Error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("x,CN=node-1")]
    public void A_name_that_cannot_be_a_common_name_is_refused(string name)
    {
        Files.CreateCas(TimeSpan.FromDays(10), overwrite: false);
        var ex = Assert.Throws<CertificateException>(() => Files.IssueNode(name, [], TimeSpan.FromDays(1), null, false));
        Assert.Equal(CertificateError.InvalidName, ex.Error);
    }

    [Fact]
    public void A_missing_certificate_file_names_the_setting_and_the_path()
    {
        var ex = Assert.Throws<CertificateException>(() => PemFiles.LoadWithKey(Path.Combine(_dir, "nope.pem"), "nope.key", "broker.security.cluster.node-cert", "node-key", Now));
        Assert.Equal(CertificateError.FileNotFound, ex.Error);
        Assert.Contains("broker.security.cluster.node-cert", ex.Message);
        Assert.Contains("nope.pem", ex.Message);
    }

    [Fact]
    public void A_file_that_is_not_PEM_is_refused()
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "garbage.pem");
        File.WriteAllText(path, "hello");
        var ex = Assert.Throws<CertificateException>(() => PemFiles.LoadCertificate(path, "cluster-ca"));
        Assert.Equal(CertificateError.NotPem, ex.Error);
    }

    [Fact]
    public void A_key_file_that_holds_a_certificate_is_refused_as_not_a_key()
    {
        Files.CreateCas(TimeSpan.FromDays(10), overwrite: false);
        var issued = Files.IssueNode("1", [], TimeSpan.FromDays(5), null, false);
        var ex = Assert.Throws<CertificateException>(() => PemFiles.LoadWithKey(issued.Certificate, issued.Certificate, "node-cert", "node-key", Now));
        Assert.Equal(CertificateError.NotPem, ex.Error);
        Assert.Contains("node-key", ex.Message);
    }

    [Fact]
    public void A_key_that_does_not_match_the_certificate_is_refused()
    {
        Files.CreateCas(TimeSpan.FromDays(10), overwrite: false);
        var one = Files.IssueNode("1", [], TimeSpan.FromDays(5), null, false);
        var two = Files.IssueNode("2", [], TimeSpan.FromDays(5), null, false);
        var ex = Assert.Throws<CertificateException>(() => PemFiles.LoadWithKey(one.Certificate, two.Key, "node-cert", "node-key", Now));
        Assert.Equal(CertificateError.KeyMismatch, ex.Error);
        Assert.Contains("not the private key", ex.Message);
    }

    [Fact]
    public void An_expired_certificate_is_refused_with_its_date_and_the_command_that_renews_it()
    {
        Files.CreateCas(TimeSpan.FromDays(10), overwrite: false);
        var issued = Files.IssueNode("1", [], TimeSpan.FromDays(1), null, false);
        var ex = Assert.Throws<CertificateException>(() => PemFiles.LoadWithKey(issued.Certificate, issued.Key, "node-cert", "node-key", Now.AddDays(2)));
        Assert.Equal(CertificateError.Expired, ex.Error);
        Assert.Contains("expired on", ex.Message);
        Assert.Contains("broker certs node", ex.Message);
    }

    [Fact]
    public void A_certificate_from_the_future_is_refused_naming_the_clock()
    {
        Files.CreateCas(TimeSpan.FromDays(10), overwrite: false);
        var issued = Files.IssueNode("1", [], TimeSpan.FromDays(1), null, false);
        var ex = Assert.Throws<CertificateException>(() => PemFiles.LoadWithKey(issued.Certificate, issued.Key, "node-cert", "node-key", Now.AddDays(-1)));
        Assert.Equal(CertificateError.NotYetValid, ex.Error);
        Assert.Contains("clock", ex.Message);
    }

    [Fact]
    public void A_node_certificate_used_as_a_CA_is_refused()
    {
        Files.CreateCas(TimeSpan.FromDays(10), overwrite: false);
        var issued = Files.IssueNode("1", [], TimeSpan.FromDays(5), null, false);
        using var cert = PemFiles.LoadCertificate(issued.Certificate, "cluster-ca");
        var ex = Assert.Throws<CertificateException>(() => CertificateChains.RequireCa(cert, issued.Certificate, "cluster-ca"));
        Assert.Equal(CertificateError.NotACa, ex.Error);
    }
}
