using Broker.Server.Controller;
using Broker.Server.Hosting;
using Xunit;

namespace Broker.Server.Tests.Controller.Quorum;

/// <summary>A node with broker.metadata.quorum set starts its voter beside the actors, and stops it with them.</summary>
public sealed class BrokerNodeQuorumTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "broker-node-quorum-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_single_voter_node_formats_its_quorum_directory_once_and_commits()
    {
        Directory.CreateDirectory(_dir);
        var config = Path.Combine(_dir, "node.conf");
        await File.WriteAllTextAsync(config, $$"""
            broker.metadata.quorum {
              voters = ["1@127.0.0.1:{{FreePort()}}"]
              cluster-id = "smoke"
              format-if-new = on
            }
            """);
        var overrides = new NodeOverrides { ConfigFile = config, Port = FreePort(), KafkaEnabled = false, DataDir = Path.Combine(_dir, "data"), NodeId = 1 };
        var node = await BrokerNode.StartAsync(overrides);
        try
        {
            var quorum = Assert.IsType<Broker.Server.Controller.Quorum.MetadataQuorum>(node.MetadataQuorum);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var registered = Assert.IsType<BrokerRegistered>(await quorum.ProposeAsync(new RegisterBroker(1, Guid.NewGuid(), -1), cts.Token));
            Assert.Equal(1, registered.BrokerEpoch);
            Assert.True(quorum.IsController);
        }
        finally
        {
            await node.StopAsync();
        }
        Assert.True(File.Exists(Path.Combine(_dir, "data", "metadata-quorum", "quorum.meta")));
    }

    private static int FreePort() => Broker.Tests.TestPorts.Free();

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still be closing its files
        }
    }
}
