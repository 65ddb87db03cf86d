// The timeouts a node waits with come from HOCON (reference.conf defaults, a config file on top), never from literals in code.
using Broker.Server.Hosting;
using Xunit;

namespace Broker.Server.Tests.Hosting;

public sealed class NodeTimeoutSettingsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "broker-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public void Join_cluster_status_and_registry_timeouts_default_from_reference_conf()
    {
        var (config, settings) = NodeConfig.Load(new NodeOverrides { DataDir = _dir });
        var broker = BrokerSettings.Create(config);

        Assert.Equal(TimeSpan.FromSeconds(30), settings.JoinTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), broker.ClusterStatusTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), broker.Groups.RegistryTimeout);
    }

    [Fact]
    public void Join_cluster_status_and_registry_timeouts_can_come_from_a_config_file()
    {
        Directory.CreateDirectory(_dir);
        var file = Path.Combine(_dir, "node.conf");
        File.WriteAllText(file, "broker { node.join-timeout = 90s, gateway.cluster-status-timeout = 2s, groups.registry-timeout = 20s }");

        var (config, settings) = NodeConfig.Load(new NodeOverrides { DataDir = _dir, ConfigFile = file });
        var broker = BrokerSettings.Create(config);

        Assert.Equal(TimeSpan.FromSeconds(90), settings.JoinTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), broker.ClusterStatusTimeout);
        Assert.Equal(TimeSpan.FromSeconds(20), broker.Groups.RegistryTimeout);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
