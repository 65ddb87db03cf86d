using Broker.Client.Connection;
using Broker.Protocol;
using Xunit;

namespace Broker.Client.Tests.Connection;

/// <summary>The TLS options of <see cref="ClientConfig"/> read into <see cref="ClientTls"/>, and each refusal (InvalidConfig).</summary>
public sealed class ClientTlsTests
{
    [Fact]
    public void No_CA_means_plain_TCP()
    {
        Assert.Null(ClientTls.From(new ClientConfig()));
    }

    [Fact]
    public void A_CA_turns_TLS_on_and_the_gateway_is_reached_with_akka_ssl_tcp()
    {
        var tls = ClientTls.From(new ClientConfig { SslCaLocation = "ca.pem", SslCertificateLocation = "c.pem", SslKeyLocation = "c.key" });
        Assert.NotNull(tls);
        Assert.True(tls.SameFiles(ClientTls.From(new ClientConfig { SslCaLocation = "ca.pem", SslCertificateLocation = "c.pem", SslKeyLocation = "c.key" })));
        Assert.False(tls.SameFiles(ClientTls.From(new ClientConfig { SslCaLocation = "ca.pem" })));
        Assert.Equal("akka.ssl.tcp://broker@127.0.0.1:9290/user/gateway", new BootstrapAddress("127.0.0.1", 9290).GatewayPathWith(ClientTls.Scheme));
    }

    [Fact]
    public void A_certificate_without_a_CA_is_refused()
    {
        var error = Assert.Throws<BrokerException>(() => ClientTls.From(new ClientConfig { SslCertificateLocation = "c.pem", SslKeyLocation = "c.key" }));
        Assert.Equal(ErrorCode.InvalidConfig, error.Error);
        Assert.Contains("SslCaLocation", error.Message);
    }

    [Fact]
    public void A_certificate_without_its_key_is_refused()
    {
        var error = Assert.Throws<BrokerException>(() => ClientTls.From(new ClientConfig { SslCaLocation = "ca.pem", SslCertificateLocation = "c.pem" }));
        Assert.Equal(ErrorCode.InvalidConfig, error.Error);
        Assert.Contains("SslKeyLocation", error.Message);
    }

    [Fact]
    public void A_missing_CA_file_is_refused_naming_the_setting()
    {
        var tls = ClientTls.From(new ClientConfig { SslCaLocation = Path.Combine(Path.GetTempPath(), "no-such-ca-" + Guid.NewGuid().ToString("N") + ".pem") })!;
        var error = Assert.Throws<BrokerException>(tls.Load);
        Assert.Equal(ErrorCode.InvalidConfig, error.Error);
        Assert.Contains("ssl.ca.location", error.Message);
    }
}
