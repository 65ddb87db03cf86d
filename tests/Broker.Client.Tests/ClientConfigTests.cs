using Xunit;

namespace Broker.Client.Tests;

/// <summary>The defaults of <see cref="ClientConfig"/> that depend on other settings.</summary>
public sealed class ClientConfigTests
{
    [Fact]
    public void ConnectTimeout_defaults_to_3_s_over_plain_TCP()
    {
        Assert.Equal(TimeSpan.FromSeconds(3), new ClientConfig().ConnectTimeout);
    }

    [Fact]
    public void ConnectTimeout_defaults_to_10_s_with_TLS_as_Kafkas_socket_connection_setup_timeout()
    {
        Assert.Equal(TimeSpan.FromSeconds(10), new ClientConfig { SslCaLocation = "ca.pem" }.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), new ProducerConfig { SslCaLocation = "ca.pem" }.ConnectTimeout);
    }

    [Fact]
    public void An_explicit_ConnectTimeout_wins_with_or_without_TLS()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), new ClientConfig { ConnectTimeout = TimeSpan.FromSeconds(2), SslCaLocation = "ca.pem" }.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(20), new ConsumerConfig { ConnectTimeout = TimeSpan.FromSeconds(20) }.ConnectTimeout);
    }
}
