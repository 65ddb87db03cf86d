using Broker.IntegrationTests.Security;
using Confluent.Kafka;
using Xunit;

namespace Broker.IntegrationTests;

/// <summary>
/// One node with its defaults for a whole test class (<c>IClassFixture&lt;OneNodeFixture&gt;</c>) whose tests each use
/// their own topics and groups: a node per test cost the suite a start each.
/// </summary>
public sealed class OneNodeFixture : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "broker-it", Guid.NewGuid().ToString("N"));
    private IAdminClient? _kafkaAdmin;

    public BrokerProcess Process { get; private set; } = null!;

    /// <summary>A Confluent.Kafka admin client on the node's Kafka listener, built on first use and shared by the class.</summary>
    public IAdminClient KafkaAdmin => _kafkaAdmin ??= new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Process.KafkaBootstrap }).Build();

    public async Task InitializeAsync() => Process = await BrokerProcess.StartNodeAsync(_dataDir);

    public Task DisposeAsync()
    {
        _kafkaAdmin?.Dispose();
        Process.Dispose();
        TlsClusterFixture.DeleteQuietly(_dataDir);
        return Task.CompletedTask;
    }
}
