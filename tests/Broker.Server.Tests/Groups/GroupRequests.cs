using Broker.Protocol.Groups;
using Broker.Protocol.Messages;

namespace Broker.Server.Tests.Groups;

/// <summary>Requests and expected assignments shared by the coordinator's rule tests and its node-level tests.</summary>
internal static class GroupRequests
{
    /// <summary>A consumer-protocol join subscribing to <paramref name="topics"/> with one assignor.</summary>
    public static JoinGroupRequest Join(string group, string memberId, string[] topics, string assignor = "range", int sessionMs = 3000, TopicPartitionId[]? owned = null) =>
        new(group, memberId, "test-client", sessionMs, sessionMs, ConsumerProtocol.ProtocolType,
            [new GroupProtocol(assignor, ConsumerProtocol.EncodeSubscription(new ConsumerSubscription(topics, owned ?? [])))]);

    /// <summary>Every partition of a topic, in order.</summary>
    public static List<TopicPartitionId> All(string topic, int partitions)
    {
        var list = new List<TopicPartitionId>();
        for (var p = 0; p < partitions; p++) list.Add(new TopicPartitionId(topic, p));
        return list;
    }
}
