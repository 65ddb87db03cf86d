using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Kafka;

/// <summary>
/// @platformatic/kafka 1.35 (Node), a client that speaks only Kafka 3.5+ API versions (Metadata 9+, Fetch 12+ with
/// topic ids, JoinGroup 6+, OffsetCommit 8+, FindCoordinator 4+ batched), against a real node: issue 15's first
/// "must show". The script is Kafka/Node/platformatic.mjs.
/// </summary>
public sealed class PlatformaticKafkaTests(OneNodeFixture node, ITestOutputHelper output) : IClassFixture<OneNodeFixture>
{
    private BrokerProcess Node => node.Process;

    [Fact]
    public async Task Platformatic_creates_a_topic_produces_10000_records_with_acks_all_a_group_of_two_reads_and_commits_them_and_a_restarted_member_resumes()
    {
        var (exit, stdout, stderr) = await NodeClients.RunAsync("platformatic.mjs", TimeSpan.FromMinutes(4), Node.KafkaBootstrap, "pk-orders", "pk-billing");
        output.WriteLine(stderr);
        Assert.True(exit == 0, $"the script failed ({exit}):\n{stderr}");
        using var summary = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        var root = summary.RootElement;
        Assert.Equal(10_000, root.GetProperty("produced").GetInt32());
        Assert.Equal(10_000, root.GetProperty("unique").GetInt32());
        // Both members had partitions: the group really was two.
        Assert.True(root.GetProperty("perMember").GetProperty("a").GetInt32() > 0, stdout);
        Assert.True(root.GetProperty("perMember").GetProperty("b").GetInt32() > 0, stdout);
        // The restarted member read the 100 records produced after the group closed, and none of the committed ones.
        Assert.Equal(100, root.GetProperty("lateRead").GetInt32());
        Assert.Equal(0, root.GetProperty("oldRead").GetInt32());
        Assert.True(root.GetProperty("groupListed").GetBoolean(), stdout);
    }
}
