using Akka.Configuration;
using Broker.Server.Security;
using Xunit;

namespace Broker.Server.Tests.Security;

/// <summary>broker.client-door.tls read into <see cref="ClientDoorTlsSettings"/>: defaults, the node certificate as fallback, and each refusal.</summary>
public sealed class ClientDoorTlsSettingsTests
{
    private static readonly Config NodeCertificate = ConfigurationFactory.ParseString("""node-cert = "n.pem", node-key = "n.key", cluster-ca = "ca.pem" """);

    private static Config Tls(string hocon) => ConfigurationFactory.ParseString(hocon);

    [Fact]
    public void Off_by_default_means_plain_TCP()
    {
        Assert.Null(ClientDoorTlsSettings.Create(Tls("enabled = off"), NodeCertificate));
        Assert.Null(ClientDoorTlsSettings.Create(null, NodeCertificate));
    }

    [Fact]
    public void On_without_a_cert_presents_the_node_certificate_and_asks_no_client_certificate()
    {
        var settings = ClientDoorTlsSettings.Create(Tls("enabled = on"), NodeCertificate);
        Assert.Equal(new ClientDoorTlsSettings("n.pem", "n.key", false, null), settings);
    }

    [Fact]
    public void A_cert_of_its_own_overrides_the_node_certificate()
    {
        var settings = ClientDoorTlsSettings.Create(Tls("""enabled = on, cert = "d.pem", key = "d.key", client-auth = required, client-ca = "clients.pem" """), NodeCertificate);
        Assert.Equal(new ClientDoorTlsSettings("d.pem", "d.key", true, "clients.pem"), settings);
    }

    [Fact]
    public void On_with_no_certificate_anywhere_is_refused_naming_both_settings()
    {
        var error = Assert.Throws<ConfigurationException>(() => ClientDoorTlsSettings.Create(Tls("enabled = on"), ConfigurationFactory.Empty));
        Assert.Contains("broker.client-door.tls.cert", error.Message);
        Assert.Contains("broker.security.node-cert", error.Message);
    }

    [Fact]
    public void Client_auth_required_without_a_client_CA_is_refused()
    {
        var error = Assert.Throws<ConfigurationException>(() => ClientDoorTlsSettings.Create(Tls("enabled = on, client-auth = required"), NodeCertificate));
        Assert.Contains("client-ca", error.Message);
    }

    [Fact]
    public void An_unknown_client_auth_is_refused()
    {
        var error = Assert.Throws<ConfigurationException>(() => ClientDoorTlsSettings.Create(Tls("enabled = on, client-auth = optional"), NodeCertificate));
        Assert.Contains("none or required", error.Message);
    }
}
