using Broker.Kafka.Messages;
using Xunit;
using Xunit.Abstractions;
using static Broker.Server.Tests.Kafka.KafkaListenerTests;

namespace Broker.Server.Tests.Kafka;

/// <summary>auto-create-topics-enable on (Kafka's auto.create.topics.enable): Metadata for a missing topic creates it, when the client allows.</summary>
public sealed class KafkaAutoCreateTests(ITestOutputHelper output)
    : KafkaListenerTestKit(output, kafka: k => k with { AutoCreateTopics = true, NumPartitions = 3 })
{
    private static async Task<MetadataResponse.MetadataResponseTopic> MetadataAsync(System.Net.Sockets.Socket socket, int correlationId, string topic, bool allow)
    {
        await socket.SendAsync(Frame(MetadataRequest.Api, 12, correlationId, new MetadataRequest { Topics = [new() { Name = topic }], AllowAutoTopicCreation = allow }));
        var (_, body) = await ReadResponseAsync(socket, flexibleHeader: true);
        return Parse(body, 12, MetadataResponse.Read).Topics.Single();
    }

    [Fact]
    public async Task Metadata_creates_a_missing_topic_with_the_nodes_partition_count_unless_the_client_forbids_it()
    {
        using var socket = await ConnectAsync();

        var created = await MetadataAsync(socket, 1, "made-on-demand", allow: true);
        Assert.Equal((short)0, created.ErrorCode);
        Assert.NotEqual(Guid.Empty, created.TopicId);
        Assert.Equal(3, created.Partitions.Count); // num-partitions

        var forbidden = await MetadataAsync(socket, 2, "not-wanted", allow: false);
        Assert.Equal(3, forbidden.ErrorCode); // UNKNOWN_TOPIC_OR_PARTITION, and not created
        Assert.Equal(3, (await MetadataAsync(socket, 3, "not-wanted", allow: false)).ErrorCode);
    }

    [Fact]
    public async Task A_missing_topic_with_an_invalid_name_is_answered_INVALID_TOPIC()
    {
        using var socket = await ConnectAsync();
        var invalid = await MetadataAsync(socket, 1, "no spaces allowed", allow: true);
        Assert.Equal(17, invalid.ErrorCode); // INVALID_TOPIC_EXCEPTION
    }
}
