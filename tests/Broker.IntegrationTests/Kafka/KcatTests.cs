using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Kafka;

/// <summary>kcat, a second Kafka client (an older librdkafka), against a real node: metadata, produce with acks=all, consume, and a group consumer.</summary>
public sealed class KcatTests(OneNodeFixture fixture, ITestOutputHelper output) : IClassFixture<OneNodeFixture>
{
    private BrokerProcess Node => fixture.Process;

    [Fact]
    public async Task Kcat_lists_the_node_produces_keyed_lines_with_acks_all_and_idempotence_and_reads_them_back_alone_and_in_a_group()
    {
        const string topic = "kcat-lines";
        var timeout = TimeSpan.FromSeconds(60);
        var listing = await Kcat.RunAsync(null, timeout, "-b", Node.KafkaBootstrap, "-L");
        output.WriteLine(listing.Output + listing.Errors);
        Assert.Equal(0, listing.ExitCode);
        Assert.Contains($"broker {Node.NodeId} at 127.0.0.1:{Node.KafkaPort}", listing.Output);

        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Node.KafkaBootstrap }).Build())
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 3, ReplicationFactor = 1 }]);

        var lines = string.Join("\n", Enumerable.Range(0, 500).Select(i => $"key-{i % 7}:value-{i}")) + "\n";
        var produced = await Kcat.RunAsync(lines, timeout, "-b", Node.KafkaBootstrap, "-P", "-t", topic, "-K:", "-X", "acks=all", "-X", "enable.idempotence=true");
        output.WriteLine(produced.Errors);
        Assert.Equal(0, produced.ExitCode);
        Assert.DoesNotContain("ERROR", produced.Errors);

        var consumed = await Kcat.RunAsync(null, timeout, "-b", Node.KafkaBootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%p %o %k %s\\n");
        var records = consumed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(500, records.Length);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => $"value-{i}").Order(), records.Select(r => r.Split(' ')[3]).Order());
        // One key, one partition.
        Assert.All(records.GroupBy(r => r.Split(' ')[2]), g => Assert.Single(g.Select(r => r.Split(' ')[0]).Distinct()));

        var grouped = await Kcat.RunAsync(null, timeout, "-b", Node.KafkaBootstrap, "-G", "kcat-group", "-o", "beginning", "-e", "-q", "-f", "%s\\n", topic);
        output.WriteLine(grouped.Errors);
        Assert.Equal(500, grouped.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
