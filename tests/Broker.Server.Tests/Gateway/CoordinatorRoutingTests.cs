using System.Collections.Immutable;
using System.Diagnostics;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Gateway;
using Broker.Server.Groups;
using Broker.Server.Metadata;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Server.Tests.Gateway;

/// <summary>
/// Kafka clients' group requests (<see cref="AtCoordinatorOnly"/>) are served only where the group's coordinator runs
/// as the node's metadata says, and refused NotCoordinator at once elsewhere, as in Kafka; the native client's are
/// forwarded wherever the coordinator runs.
/// </summary>
public sealed class CoordinatorRoutingTests(ITestOutputHelper output) : NodeTestKit(output)
{
    [Fact]
    public void A_Kafka_group_request_is_served_where_the_coordinator_runs_and_refused_NotCoordinator_at_once_where_it_does_not()
    {
        // The first group request creates __consumer_offsets wherever it is sent; then the coordinator runs here (one node).
        Assert.Equal(ErrorCode.None, Request<OffsetFetchResponse>(new AtCoordinatorOnly(new OffsetFetchRequest("workers", null)), TimeSpan.FromSeconds(30)).Error);
        Assert.Equal(ErrorCode.None, Request<OffsetFetchResponse>(new AtCoordinatorOnly(new OffsetFetchRequest("workers", null))).Error);

        // The node's metadata now names another node, which is down, as the leader of two groups' partitions: "workers",
        // whose coordinators run here (the metadata lags), and "billing", whose do not (this node hosts every partition,
        // so the test says it does not host that one). A Kafka client's heartbeat for "billing" is refused at once, not
        // forwarded to wait for (or be lost on the way to) a coordinator while the client's later requests reach the new
        // one; one for "workers" is served here.
        var offsets = Request<MetadataResponse>(new MetadataRequest([OffsetsTopic.Name])).Topics.Single();
        var workers = OffsetsTopic.PartitionFor("workers", offsets.Partitions.Count);
        var billing = Enumerable.Range(0, 100).Select(i => $"billing-{i}").First(g => OffsetsTopic.PartitionFor(g, offsets.Partitions.Count) != workers);
        var billingPartition = OffsetsTopic.PartitionFor(billing, offsets.Partitions.Count);
        var hosted = HostedGroupPartitions.Get(Sys);
        AwaitCondition(() => hosted.Contains(workers) && hosted.Contains(billingPartition), TimeSpan.FromSeconds(10));
        while (hosted.Contains(billingPartition)) hosted.Stopped(billingPartition);
        var stale = new PartitionState(100, 0, 7, [7]);
        Gateway.Tell(new PartitionStateTable(ImmutableSortedDictionary.Create<string, PartitionState>(StringComparer.Ordinal)
            .Add(PartitionStateTable.KeyOf(offsets.TopicId, workers), stale)
            .Add(PartitionStateTable.KeyOf(offsets.TopicId, billingPartition), stale)), TestActor);
        var watch = Stopwatch.StartNew();
        AwaitAssert(() =>
        {
            var refused = Request<ErrorResponse>(new AtCoordinatorOnly(new HeartbeatRequest(billing, 1, "m1")));
            Assert.Equal(ErrorCode.NotCoordinator, refused.Error);
            Assert.Contains("node 7", refused.ErrorMessage, StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(5));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"refused after {watch.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(ErrorCode.None, Request<OffsetFetchResponse>(new AtCoordinatorOnly(new OffsetFetchRequest("workers", null))).Error);

        // The native client's requests are still forwarded to the coordinator wherever it runs.
        Assert.Equal(ErrorCode.None, Request<OffsetFetchResponse>(new OffsetFetchRequest(billing, null)).Error);
    }
}

/// <summary>The rule itself (<see cref="CoordinatorPlacement"/>).</summary>
public sealed class CoordinatorPlacementTests
{
    private static bool Alive(int node) => node is 1 or 2;

    [Fact]
    public void Before_the_internal_topic_exists_any_node_serves_so_the_first_group_request_creates_it() =>
        Assert.IsType<CoordinatorPlacement.NotCreated>(CoordinatorPlacement.Of(topicExists: false, leader: -1, self: 1, Alive));

    [Fact]
    public void The_coordinator_runs_beside_the_live_leader_of_the_groups_partition()
    {
        Assert.IsType<CoordinatorPlacement.Here>(CoordinatorPlacement.Of(topicExists: true, leader: 1, self: 1, Alive));
        Assert.Equal(new CoordinatorPlacement.Elsewhere(2), CoordinatorPlacement.Of(topicExists: true, leader: 2, self: 1, Alive));
    }

    [Fact]
    public void Coordinators_running_here_are_here_before_the_metadata_says_this_node_leads()
    {
        Assert.IsType<CoordinatorPlacement.Here>(CoordinatorPlacement.Of(topicExists: true, leader: -1, self: 1, Alive, hostedHere: true));
        Assert.IsType<CoordinatorPlacement.Here>(CoordinatorPlacement.Of(topicExists: true, leader: 2, self: 1, Alive, hostedHere: true));
    }

    [Fact]
    public void A_partition_without_a_live_leader_has_no_coordinator_until_one_is_elected()
    {
        Assert.IsType<CoordinatorPlacement.Unknown>(CoordinatorPlacement.Of(topicExists: true, leader: -1, self: 1, Alive));
        var dead = Assert.IsType<CoordinatorPlacement.Unknown>(CoordinatorPlacement.Of(topicExists: true, leader: 3, self: 1, Alive));
        Assert.Contains("node 3", dead.Reason, StringComparison.Ordinal);
    }
}
