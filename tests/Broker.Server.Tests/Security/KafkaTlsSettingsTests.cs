using Akka.Configuration;
using Broker.Server.Security;
using Xunit;

namespace Broker.Server.Tests.Security;

/// <summary>broker.kafka's security-protocol and ssl.*: PLAINTEXT by default, and every incomplete SSL setup named at start.</summary>
public sealed class KafkaTlsSettingsTests
{
    private static readonly Config NoNodeCert = ConfigurationFactory.ParseString("node-cert = \"\", node-key = \"\"");

    private static KafkaTlsSettings? Create(string kafka, Config? security = null) =>
        KafkaTlsSettings.Create(ConfigurationFactory.ParseString(kafka), security ?? NoNodeCert);

    [Fact]
    public void Plaintext_is_the_default() => Assert.Null(Create("security-protocol = PLAINTEXT"));

    [Fact]
    public void SSL_uses_the_node_certificate_unless_the_listener_has_its_own()
    {
        var node = ConfigurationFactory.ParseString("node-cert = \"n.pem\", node-key = \"n.key\"");
        Assert.Equal(new KafkaTlsSettings("n.pem", "n.key", "", KafkaClientAuth.None), Create("security-protocol = SSL", node));
        Assert.Equal("k.pem", Create("security-protocol = SSL, ssl { certificate-location = \"k.pem\", key-location = \"k.key\" }", node)!.CertificateLocation);
    }

    [Fact]
    public void SSL_without_any_certificate_names_the_settings()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Create("security-protocol = SSL"));
        Assert.Contains("broker.kafka.ssl.certificate-location", ex.Message);
    }

    [Fact]
    public void Required_client_auth_without_a_truststore_names_it()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Create("security-protocol = SSL, ssl { certificate-location = \"k.pem\", key-location = \"k.key\", client-auth = required }"));
        Assert.Contains("truststore-location", ex.Message);
    }

    [Fact]
    public void An_unknown_client_auth_is_refused() =>
        Assert.Throws<ConfigurationException>(() => Create("security-protocol = SSL, ssl { certificate-location = \"k.pem\", key-location = \"k.key\", client-auth = maybe }"));

    [Fact]
    public void SASL_SSL_needs_a_certificate_as_SSL_does() =>
        Assert.Throws<ConfigurationException>(() => Create("security-protocol = SASL_SSL"));

    [Fact]
    public void SASL_PLAINTEXT_has_no_TLS() => Assert.Null(Create("security-protocol = SASL_PLAINTEXT"));

    [Fact]
    public void An_unknown_security_protocol_names_the_four_Kafka_knows()
    {
        var ex = Assert.Throws<ConfigurationException>(() => Create("security-protocol = TLS"));
        Assert.Contains("SASL_SSL", ex.Message);
    }

    [Fact]
    public void A_missing_listener_certificate_stops_the_start_with_its_path()
    {
        var ex = Assert.Throws<CertificateException>(() => KafkaTls.Load(new KafkaTlsSettings("/nope/k.pem", "/nope/k.key", "", KafkaClientAuth.None), DateTimeOffset.UtcNow));
        Assert.Equal(CertificateError.FileNotFound, ex.Error);
        Assert.Contains("broker.kafka.ssl.certificate-location", ex.Message);
    }
}
