using Broker.Protocol;
using Broker.Protocol.Groups;
using Broker.Protocol.Messages;

namespace Broker.Server.Tests.Groups;

/// <summary>Requests and expected assignments shared by the coordinator's rule tests and its node-level tests.</summary>
internal static class GroupRequests
{
    /// <summary>A consumer-protocol join subscribing to <paramref name="topics"/> with one assignor.</summary>
    public static JoinGroupRequest Join(string group, string memberId, string[] topics, string assignor = "range", int sessionMs = 3000, TopicPartition[]? owned = null) =>
        new(group, memberId, "test-client", sessionMs, sessionMs, ConsumerProtocol.ProtocolType,
            [new GroupProtocol(assignor, ConsumerProtocol.EncodeSubscription(new ConsumerSubscription(topics, owned ?? [])))]);

    /// <summary>Every partition of a topic, in order.</summary>
    public static List<TopicPartition> All(string topic, int partitions)
    {
        var list = new List<TopicPartition>();
        for (var p = 0; p < partitions; p++) list.Add(new TopicPartition(topic, p));
        return list;
    }
}
