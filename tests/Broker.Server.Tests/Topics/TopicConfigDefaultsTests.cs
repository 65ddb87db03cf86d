// DescribeConfigs lists every topic config with its default (issue 15): the defaults must cover every key the broker knows.
using Broker.Server.Hosting;
using Broker.Server.Topics;
using Xunit;

namespace Broker.Server.Tests.Topics;

public sealed class TopicConfigDefaultsTests
{
    [Fact]
    public void Every_known_key_has_a_default_that_validates()
    {
        var (config, _) = NodeConfig.Load(new NodeOverrides { DataDir = Path.Combine(Path.GetTempPath(), "broker-tests", Guid.NewGuid().ToString("N")) });
        var settings = BrokerSettings.Create(config);
        var defaults = TopicConfig.Defaults(settings, replicationFactor: 3);

        Assert.Equal(TopicConfig.KnownKeys.Order(), defaults.Keys.Order());
        Assert.Null(TopicConfig.Validate(defaults, settings));
        Assert.Equal(settings.DefaultRetentionMs.ToString(System.Globalization.CultureInfo.InvariantCulture), defaults[TopicConfig.RetentionMsKey]);
        Assert.Equal("2", defaults[TopicConfig.MinInsyncReplicasKey]); // min(2, replication factor)
        Assert.Equal("CreateTime", defaults[TopicConfig.TimestampTypeKey]);
    }
}
