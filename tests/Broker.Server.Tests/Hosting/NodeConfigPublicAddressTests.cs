// A node listens on one address and advertises another (containers, NAT): what NodeConfig hands to Akka.Remote.
using Akka.Configuration;
using Broker.Server.Hosting;
using Xunit;

namespace Broker.Server.Tests.Hosting;

public sealed class NodeConfigPublicAddressTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "broker-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public void Public_address_defaults_to_the_listen_address()
    {
        var (config, settings) = NodeConfig.Load(new NodeOverrides { DataDir = _dir, Host = "127.0.0.1", Port = 9301 });

        Assert.Equal(("127.0.0.1", 9301), (settings.PublicHost, settings.PublicPort));
        Assert.Equal("127.0.0.1", config.GetString("akka.remote.dot-netty.tcp.public-hostname"));
        Assert.Equal(9301, config.GetInt("akka.remote.dot-netty.tcp.public-port"));
        Assert.Equal(["akka.tcp://broker@127.0.0.1:9301"], config.GetStringList("akka.cluster.seed-nodes"));
    }

    [Fact]
    public void Node_binds_its_listen_address_and_advertises_the_public_one()
    {
        var (config, settings) = NodeConfig.Load(new NodeOverrides
        {
            DataDir = _dir, Host = "0.0.0.0", Port = 9190, PublicHost = "192.0.2.10", PublicPort = 19191,
        });

        Assert.Equal(("0.0.0.0", 9190), (settings.Host, settings.Port));
        Assert.Equal(("192.0.2.10", 19191), (settings.PublicHost, settings.PublicPort));
        Assert.Equal("0.0.0.0", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(9190, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal("192.0.2.10", config.GetString("akka.remote.dot-netty.tcp.public-hostname"));
        Assert.Equal(19191, config.GetInt("akka.remote.dot-netty.tcp.public-port"));
    }

    [Fact]
    public void Node_that_seeds_itself_names_itself_by_its_public_address()
    {
        var (config, _) = NodeConfig.Load(new NodeOverrides { DataDir = _dir, Host = "0.0.0.0", PublicHost = "broker-1", PublicPort = 19191 });

        Assert.Equal(["akka.tcp://broker@broker-1:19191"], config.GetStringList("akka.cluster.seed-nodes"));
    }

    [Fact]
    public void Public_address_can_come_from_a_config_file()
    {
        Directory.CreateDirectory(_dir);
        var file = Path.Combine(_dir, "node.conf");
        File.WriteAllText(file, "broker.node { host = \"0.0.0.0\", public-host = \"broker-2\", public-port = 19192 }");

        var (_, settings) = NodeConfig.Load(new NodeOverrides { DataDir = _dir, ConfigFile = file, Port = 9190 });

        Assert.Equal(("0.0.0.0", 9190, "broker-2", 19192), (settings.Host, settings.Port, settings.PublicHost, settings.PublicPort));
    }

    [Fact]
    public void Listening_on_every_interface_without_a_public_host_is_refused()
    {
        var error = Assert.Throws<ConfigurationException>(() => NodeConfig.Load(new NodeOverrides { DataDir = _dir, Host = "0.0.0.0" }));

        Assert.Contains("public-host", error.Message);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
