// One real broker node per test run (in this process, temp data dir, free port) for the end-to-end tests.
using Broker.Server.Hosting;
using Xunit;

namespace Broker.Client.Tests.EndToEnd;

public sealed class NodeFixture : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "broker-client-tests", Guid.NewGuid().ToString("N"));

    public BrokerNode Node { get; private set; } = null!;

    /// <summary>host:port for ClientConfig.BootstrapServers.</summary>
    public string Bootstrap => Node.Address;

    public async Task InitializeAsync()
    {
        Node = await BrokerNode.StartAsync(new NodeOverrides { Port = FreePort(), DataDir = _dataDir, KafkaPort = 0, HttpPort = 0 });
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static int FreePort() => Broker.Tests.TestPorts.Free();
}

[CollectionDefinition(Name)]
public sealed class NodeCollection : ICollectionFixture<NodeFixture>
{
    public const string Name = "broker node";
}
