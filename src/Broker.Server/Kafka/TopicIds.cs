using System.Collections.Concurrent;

namespace Broker.Server.Kafka;

/// <summary>
/// Topic id to name, for the Kafka APIs that name topics by id (Fetch v13+, DeleteTopics v6+, Metadata v10+).
/// Filled from every Metadata answer the listener sees; an id not known yet is looked up once through a full
/// Metadata query (<see cref="KafkaRequestHandler"/>), and an id still unknown after that is UNKNOWN_TOPIC_ID.
/// A deleted topic's id stays here, harmlessly: its name now resolves to another id, which
/// <see cref="Resolve"/> checks before answering.
/// </summary>
internal sealed class TopicIds
{
    private readonly ConcurrentDictionary<Guid, string> _names = new();
    private readonly ConcurrentDictionary<string, Guid> _ids = new(StringComparer.Ordinal);

    public void Learn(string name, Guid id)
    {
        if (id == Guid.Empty) return;
        _names[id] = name;
        _ids[name] = id;
    }

    /// <summary>The topic's current name, or null when the id is unknown or belongs to a deleted incarnation of the name.</summary>
    public string? Resolve(Guid id) =>
        _names.TryGetValue(id, out var name) && _ids.TryGetValue(name, out var current) && current == id ? name : null;

    public Guid IdOf(string name) => _ids.TryGetValue(name, out var id) ? id : Guid.Empty;
}
