using Broker.Client.Connection;
using Broker.Protocol;
using Xunit;

namespace Broker.Client.Tests.Connection;

public sealed class BootstrapAddressTests
{
    [Fact]
    public void Parses_a_list_of_host_port_pairs_in_order()
    {
        var list = BootstrapAddress.ParseList("127.0.0.1:9190, broker-2:9191,[::1]:9192");
        Assert.Equal([new BootstrapAddress("127.0.0.1", 9190), new BootstrapAddress("broker-2", 9191), new BootstrapAddress("::1", 9192)], list);
        Assert.Equal("akka.tcp://broker@127.0.0.1:9190/user/gateway", list[0].GatewayPath);
        Assert.Equal("akka.tcp://broker@[::1]:9192/user/gateway", list[2].GatewayPath);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("localhost", "has no port")]
    [InlineData("localhost:", "not a number")]
    [InlineData("localhost:http", "not a number")]
    [InlineData("localhost:0", "not a number from 1 to 65535")]
    [InlineData("localhost:70000", "not a number from 1 to 65535")]
    [InlineData(":9190", "has no host")]
    [InlineData("a:1,,b:2", "empty entry")]
    [InlineData("::1:9190", "[address]:port")]
    [InlineData("[::1]9190", "[ipv6]:port")]
    public void Invalid_bootstrap_servers_fail_with_InvalidConfig_naming_the_problem(string servers, string why)
    {
        var error = Assert.Throws<BrokerException>(() => BootstrapAddress.ParseList(servers));
        Assert.Equal(ErrorCode.InvalidConfig, error.Error);
        Assert.Contains(why, error.Message);
        Assert.Contains("host:port", error.Message);
    }

    [Fact]
    public void Clients_reject_a_bad_bootstrap_list_in_their_constructor()
    {
        Assert.Equal(ErrorCode.InvalidConfig, Assert.Throws<BrokerException>(() => new AdminClient(new ClientConfig { BootstrapServers = "nope" })).Error);
        Assert.Equal(ErrorCode.InvalidConfig, Assert.Throws<BrokerException>(() => new Producer(new ProducerConfig { BootstrapServers = "x:y" })).Error);
        Assert.Equal(ErrorCode.InvalidConfig, Assert.Throws<BrokerException>(() => new Consumer(new ConsumerConfig { BootstrapServers = "" })).Error);
    }
}
