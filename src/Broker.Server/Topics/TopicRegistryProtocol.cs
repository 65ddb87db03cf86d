using Broker.Server.Serialization;

namespace Broker.Server.Topics;

// Messages of the topic registry. Create/delete use the wire types (CreateTopicsRequest, DeleteTopicsRequest)
// so the gateway can hand them over as they are.

/// <summary>Asks for every topic; replied with <see cref="TopicsSnapshot"/>.</summary>
public sealed record GetAllTopics : IServerMessage
{
    public static readonly GetAllTopics Instance = new();
}

/// <summary>All live topics at one moment: the reply to <see cref="GetAllTopics"/>, and what the registry publishes on every change.</summary>
public sealed record TopicsSnapshot(IReadOnlyList<TopicDescriptor> Topics) : IServerMessage
{
    public TopicDescriptor? Find(string name)
    {
        foreach (var t in Topics)
            if (t.Name == name) return t;
        return null;
    }
}

public static class TopicRegistryTopics
{
    /// <summary>Distributed pub-sub topic on which the registry publishes <see cref="TopicsSnapshot"/> after every change.</summary>
    public const string Changes = "broker.topics";
}
