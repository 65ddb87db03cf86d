using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Kafka;
using Xunit;

namespace Broker.Server.Tests.Kafka;

/// <summary>How long the Kafka listener waits for a group's coordinator (<see cref="CoordinatorWait"/>).</summary>
public sealed class CoordinatorWaitTests
{
    private static readonly TimeSpan Group = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(35);

    [Fact]
    public void Requests_a_coordinator_answers_at_once_wait_the_group_request_timeout_not_the_gateways()
    {
        IGroupMessage[] answeredAtOnce =
        [
            new HeartbeatRequest("g", 1, "m"),
            new OffsetCommitRequest("g", 1, "m", [new OffsetCommitPartition("t", 0, 5, null)]),
            new OffsetFetchRequest("g", null),
            new LeaveGroupRequest("g", "m"),
            new DescribeGroupRequest("g"),
            new DeleteGroupRequest("g"),
        ];
        foreach (var request in answeredAtOnce) Assert.Equal(Group, CoordinatorWait.For(request, Group, Ask));
    }

    [Fact]
    public void A_join_waits_for_its_rebalance_and_a_sync_for_the_leaders_assignment()
    {
        var join = new JoinGroupRequest("g", "", "c", 10_000, 60_000, "consumer", []);
        Assert.Equal(Ask + TimeSpan.FromSeconds(60), CoordinatorWait.For(join, Group, Ask));
        Assert.Equal(Ask, CoordinatorWait.For(new SyncGroupRequest("g", 1, "m", []), Group, Ask));
    }

    [Fact]
    public void No_answer_in_time_is_NotCoordinator_so_a_Kafka_client_finds_the_coordinator_again()
    {
        var answer = CoordinatorWait.NoAnswer(new HeartbeatRequest("billing", 1, "m"), TimeSpan.FromSeconds(5));
        Assert.Equal(ErrorCode.NotCoordinator, answer.Error);
        Assert.Contains("billing", answer.ErrorMessage, StringComparison.Ordinal);
    }
}
