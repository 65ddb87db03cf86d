namespace Broker.Server.Controller.Quorum;

/// <summary>
/// A node's member of the metadata quorum as the rest of the node sees it: a voter (<see cref="MetadataQuorum"/>,
/// Kafka's controller) or an observer (<see cref="MetadataObserver"/>, Kafka's broker-only node, which follows the log
/// without voting). Either way: the applied image, linearizable reads, proposals that commit through the controller,
/// and every applied change in log order.
/// </summary>
public interface IMetadataQuorum : IAsyncDisposable
{
    int NodeId { get; }

    /// <summary>The node ids of the voters: the fixed set whose majority commits every metadata change.</summary>
    IReadOnlySet<int> VoterIds { get; }

    /// <summary>The image as applied on this node: possibly behind the controller; <see cref="ReadAsync"/> for a linearizable view.</summary>
    MetadataImage Image { get; }

    /// <summary>True while this node is the active controller (never on an observer).</summary>
    bool IsController { get; }

    /// <summary>The node id of the controller as this node last knew it, or null while there is none.</summary>
    int? ControllerId { get; }

    /// <summary>Commits <paramref name="record"/> through the active controller and returns what applying it did (see <see cref="MetadataQuorum.ProposeAsync"/>).</summary>
    Task<MetadataResult> ProposeAsync(MetadataRecord record, CancellationToken ct);

    /// <summary>A linearizable view: returns once this node has applied everything committed before the call.</summary>
    Task<MetadataImage> ReadAsync(CancellationToken ct);

    /// <summary>Every change applied from now on, in log order: hand it off quickly (e.g. Tell an actor).</summary>
    IDisposable Subscribe(Action<MetadataChange> onChange);
}
