using Broker.Protocol;
using Broker.Protocol.Messages;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Gateway;

/// <summary>What the gateway answers to bad requests, and the metadata and cluster views it serves.</summary>
public sealed class GatewayTests(ITestOutputHelper output) : NodeTestKit(output, "broker.limits.max-request-bytes = 200000")
{
    [Fact]
    public void Produce_to_unknown_topic_gets_UnknownTopic_with_the_fix()
    {
        var result = Produce("nope", 0, Batch(1));
        Assert.Equal(ErrorCode.UnknownTopic, result.Error);
        Assert.Contains("broker topics create nope", result.ErrorMessage);
    }

    [Fact]
    public void Fetch_and_list_offsets_of_unknown_partition_get_UnknownPartition()
    {
        CreateTopic("two", 2);
        Assert.Equal(ErrorCode.UnknownPartition, Request<FetchResponse>(new FetchRequest("two", 2, 0, 1000, 0)).Error);
        Assert.Equal(ErrorCode.UnknownPartition, Request<ListOffsetsResponse>(new ListOffsetsRequest("two", -1, -1)).Error);
        Assert.Equal(ErrorCode.UnknownTopic, Request<FetchResponse>(new FetchRequest("zzz", 0, 0, 1000, 0)).Error);
    }

    [Fact]
    public void Produce_request_over_max_request_bytes_gets_RecordTooLarge_and_stores_nothing()
    {
        CreateTopic("big", 1);
        var response = Request<ProduceResponse>(new ProduceRequest(1, 10_000,
            [new ProducePartitionData("big", 0, Batch(3, valueSize: 50_000)), new ProducePartitionData("big", 0, Batch(3, valueSize: 50_000))]));
        Assert.All(response.Results, r => Assert.Equal(ErrorCode.RecordTooLarge, r.Error));
        Assert.Equal(0, Request<ListOffsetsResponse>(new ListOffsetsRequest("big", 0, OffsetSpec.Latest)).Offset);
    }

    [Fact]
    public void Malformed_request_is_answered_with_InvalidRequest_and_the_node_keeps_serving()
    {
        var error = Request<ErrorResponse>(new MalformedRequest("P", "truncated"));
        Assert.Equal(ErrorCode.InvalidRequest, error.Error);
        CreateTopic("after-garbage", 1);
        Assert.Equal(0, Produce("after-garbage", 0, Batch(1)).BaseOffset);
    }

    [Fact]
    public void Unknown_message_type_is_answered_with_InvalidRequest()
    {
        var error = Request<ErrorResponse>("hello");
        Assert.Equal(ErrorCode.InvalidRequest, error.Error);
        Assert.Contains("unknown request type", error.ErrorMessage);
    }

    [Fact]
    public void Metadata_lists_brokers_topics_and_partition_offsets()
    {
        CreateTopic("meta", 3);
        Produce("meta", 1, Batch(4));
        var metadata = Request<MetadataResponse>(new MetadataRequest(null));
        var broker = Assert.Single(metadata.Brokers);
        Assert.Equal("Up", broker.Status);
        var topic = Assert.Single(metadata.Topics, t => t.Name == "meta");
        Assert.Equal(3, topic.Partitions.Count);
        Assert.Equal(4, topic.Partitions[1].LogEndOffset);
        Assert.Equal(broker.Address, topic.Partitions[1].Leader);

        var unknown = Request<MetadataResponse>(new MetadataRequest(["missing"]));
        Assert.Equal(ErrorCode.UnknownTopic, Assert.Single(unknown.Topics).Error);
    }

    [Fact]
    public void Cluster_status_shows_the_node_and_the_partitions_it_hosts()
    {
        CreateTopic("hosted", 2);
        Produce("hosted", 0, Batch(1));
        Produce("hosted", 1, Batch(1));
        var status = Request<ClusterStatusResponse>(new ClusterStatusRequest());
        var broker = Assert.Single(status.Brokers);
        Assert.Contains("seed", broker.Roles);
        Assert.Equal(["hosted/0", "hosted/1"], status.Partitions.Where(p => p.Topic == "hosted").Select(p => $"{p.Topic}/{p.Partition}"));
        Assert.All(status.Partitions, p => Assert.Equal(broker.Address, p.Address));
    }
}
