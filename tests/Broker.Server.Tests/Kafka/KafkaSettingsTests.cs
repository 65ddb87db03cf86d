using Akka.Configuration;
using Broker.Server.Hosting;
using Xunit;

namespace Broker.Server.Tests.Kafka;

/// <summary>How the Kafka listener's settings follow from the node's: defaults, overrides, the off switch.</summary>
public sealed class KafkaSettingsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "broker-kafka-settings", Guid.NewGuid().ToString("N"));

    [Fact]
    public void By_default_it_listens_on_9092_at_the_node_host_and_advertises_the_node_public_host()
    {
        var (_, settings) = NodeConfig.Load(new NodeOverrides { DataDir = _dir, Host = "0.0.0.0", PublicHost = "broker-1.example" });
        Assert.True(settings.Kafka.Enabled);
        Assert.Equal(("0.0.0.0", 9092), (settings.Kafka.Host, settings.Kafka.Port));
        Assert.Equal(("broker-1.example", 0), (settings.Kafka.AdvertisedHost, settings.Kafka.AdvertisedPort));
    }

    [Fact]
    public void Overrides_set_the_port_the_advertised_address_and_the_off_switch()
    {
        var (_, settings) = NodeConfig.Load(new NodeOverrides
        {
            DataDir = _dir, KafkaPort = 19000, KafkaAdvertisedHost = "kafka.example", KafkaAdvertisedPort = 29092, KafkaEnabled = false,
        });
        Assert.False(settings.Kafka.Enabled);
        Assert.Equal(19000, settings.Kafka.Port);
        Assert.Equal(("kafka.example", 29092), (settings.Kafka.AdvertisedHost, settings.Kafka.AdvertisedPort));
    }

    [Fact]
    public void Advertising_every_interface_is_refused()
    {
        var error = Assert.Throws<ConfigurationException>(() => NodeConfig.Load(new NodeOverrides { DataDir = _dir, KafkaAdvertisedHost = "0.0.0.0" }));
        Assert.Contains("advertised-host", error.Message);
    }

    [Fact]
    public void Fetch_session_slots_default_to_Kafkas_1000_and_a_negative_count_is_refused()
    {
        var (_, settings) = NodeConfig.Load(new NodeOverrides { DataDir = _dir });
        Assert.Equal(1000, settings.Kafka.MaxFetchSessions);

        var negative = ConfigurationFactory.ParseString("""
            enabled = on, host = "", port = 9092, advertised-host = "", advertised-port = 0, max-frame-bytes = 104857600,
            max-in-flight-per-connection = 100, max-incremental-fetch-session-cache-slots = -1
            """);
        var error = Assert.Throws<ConfigurationException>(() => global::Broker.Server.Kafka.KafkaSettings.Create(negative, "127.0.0.1", "127.0.0.1"));
        Assert.Contains("max-incremental-fetch-session-cache-slots must be 0 (no fetch sessions) or more", error.Message);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
