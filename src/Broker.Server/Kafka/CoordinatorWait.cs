using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Server.Kafka;

/// <summary>
/// How long the Kafka listener waits for a group's coordinator, and what it answers when none comes. Responses leave a
/// connection in request order, so one request the coordinator does not answer (its node died under it, or a write
/// hangs) holds back every answer behind it; once the client's own timeout passes (librdkafka times a heartbeat out
/// after its session timeout) it drops the connection and resends every commit that was in flight on it, including
/// those already stored, older offsets after newer ones. So a request the coordinator answers at once waits at most
/// <see cref="KafkaSettings.GroupRequestTimeout"/> and then gets NOT_COORDINATOR: the client finds the coordinator
/// again (librdkafka resends that one commit too, in its turn). A join waits for its rebalance and a sync for the
/// leader's assignment, which legitimately take longer. Requests reach only the coordinator's node in the first place
/// (<see cref="Groups.CoordinatorPlacement"/>), so this bound is for a coordinator that is there but slow.
/// </summary>
internal static class CoordinatorWait
{
    /// <param name="request">A group request on its way to the coordinator.</param>
    /// <param name="groupRequestTimeout">The listener's bound for requests answered at once.</param>
    /// <param name="askTimeout">The bound for any request to the gateway (its request timeout and a margin).</param>
    public static TimeSpan For(IGroupMessage request, TimeSpan groupRequestTimeout, TimeSpan askTimeout) => request switch
    {
        JoinGroupRequest join => askTimeout + TimeSpan.FromMilliseconds(Math.Max(0, join.RebalanceTimeoutMs)), // answered when the rebalance completes
        SyncGroupRequest => askTimeout, // a follower's waits for the leader's assignment
        _ => groupRequestTimeout,
    };

    /// <summary>The answer to a group request the coordinator did not answer within <paramref name="waited"/>.</summary>
    public static ErrorResponse NoAnswer(IGroupMessage request, TimeSpan waited) =>
        new(ErrorCode.NotCoordinator, $"the coordinator of group {request.GroupId} did not answer within {waited.TotalSeconds:0.#} s (it may be moving); find the coordinator again");
}
