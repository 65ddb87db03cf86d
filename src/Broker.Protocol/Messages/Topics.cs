namespace Broker.Protocol.Messages;

/// <summary>What a client asks for when it creates a topic. Configs use Kafka's keys (retention.ms, retention.bytes, max.message.bytes).</summary>
public sealed record TopicSpec(string Name, int Partitions, short ReplicationFactor, IReadOnlyDictionary<string, string> Configs);

public sealed record CreateTopicsRequest(IReadOnlyList<TopicSpec> Topics) : IBrokerRequest;

/// <summary>Outcome for one topic of a create or delete request.</summary>
public sealed record TopicResult(string Name, ErrorCode Error, string? ErrorMessage);

public sealed record CreateTopicsResponse(IReadOnlyList<TopicResult> Results) : IBrokerResponse
{
    public ErrorCode Error => ErrorCode.None;
    public string? ErrorMessage => null;
}

public sealed record DeleteTopicsRequest(IReadOnlyList<string> Topics) : IBrokerRequest;

public sealed record DeleteTopicsResponse(IReadOnlyList<TopicResult> Results) : IBrokerResponse
{
    public ErrorCode Error => ErrorCode.None;
    public string? ErrorMessage => null;
}

/// <summary>Where one partition's replicas should live: node ids, the preferred leader first.</summary>
public sealed record PartitionReassignment(string Topic, int Partition, IReadOnlyList<int> Replicas);

/// <summary>
/// Moves partitions' replicas to other nodes (Kafka's AlterPartitionReassignments): the new replicas copy the
/// log from the leader, and the old ones are removed once the new ones are in sync. Answered when the move is
/// recorded, not when it is done; <c>broker topics describe</c> shows its progress.
/// </summary>
public sealed record ReassignPartitionsRequest(IReadOnlyList<PartitionReassignment> Partitions) : IBrokerRequest;

public sealed record ReassignmentResult(string Topic, int Partition, ErrorCode Error, string? ErrorMessage);

public sealed record ReassignPartitionsResponse(IReadOnlyList<ReassignmentResult> Results) : IBrokerResponse
{
    public ErrorCode Error => ErrorCode.None;
    public string? ErrorMessage => null;
}

/// <summary>Asks for cluster and topic metadata; <paramref name="Topics"/> null means every topic.</summary>
public sealed record MetadataRequest(IReadOnlyList<string>? Topics) : IBrokerRequest;

/// <summary>A node of the cluster as the gateway sees it. Status is Akka.Cluster's member status (Up, Leaving, ...) or Unreachable.</summary>
public sealed record BrokerInfo(string Address, string Host, int Port, IReadOnlyList<string> Roles, string Status)
{
    /// <summary>The node's broker id (kept in its data directory); -1 for a member that is not a broker node.</summary>
    public int NodeId { get; init; } = -1;
}

/// <summary>
/// One partition: its leader (address and node id), leader epoch, replicas, in-sync replicas (ISR), replicas
/// on nodes that are down, and its offsets: log start, high watermark (what consumers can read) and log end.
/// </summary>
public sealed record PartitionMetadata(int Partition, string Leader, long LogStartOffset, long LogEndOffset, ErrorCode Error, string? ErrorMessage)
{
    public int LeaderId { get; init; } = -1;
    public int LeaderEpoch { get; init; } = -1;
    public long HighWatermark { get; init; } = -1;
    public IReadOnlyList<int> Replicas { get; init; } = [];
    public IReadOnlyList<int> Isr { get; init; } = [];
    public IReadOnlyList<int> OfflineReplicas { get; init; } = [];
    /// <summary>Replicas being added by a reassignment (copying the log); empty when nothing moves.</summary>
    public IReadOnlyList<int> AddingReplicas { get; init; } = [];
    /// <summary>Replicas being removed by a reassignment (once the added ones are in sync); empty when nothing moves.</summary>
    public IReadOnlyList<int> RemovingReplicas { get; init; } = [];
}

public sealed record TopicMetadata(
    string Name,
    string TopicId,
    ErrorCode Error,
    string? ErrorMessage,
    short ReplicationFactor,
    IReadOnlyDictionary<string, string> Configs,
    IReadOnlyList<PartitionMetadata> Partitions);

public sealed record MetadataResponse(IReadOnlyList<BrokerInfo> Brokers, IReadOnlyList<TopicMetadata> Topics) : IBrokerResponse
{
    public ErrorCode Error => ErrorCode.None;
    public string? ErrorMessage => null;
}

/// <summary>How one config key changes: set to a value, or removed so the node's default applies again (Kafka's SET and DELETE).</summary>
public enum ConfigOperation : byte
{
    Set = 0,
    Delete = 1,
}

public sealed record TopicConfigChange(string Key, ConfigOperation Operation, string? Value);

public sealed record TopicConfigAlteration(string Topic, IReadOnlyList<TopicConfigChange> Changes);

/// <summary>
/// Changes topics' configs key by key (Kafka's IncrementalAlterConfigs): keys not named keep their values. All of a
/// topic's changes apply together or not at all; <paramref name="ValidateOnly"/> checks them without applying.
/// </summary>
public sealed record AlterTopicConfigsRequest(IReadOnlyList<TopicConfigAlteration> Topics, bool ValidateOnly = false) : IBrokerRequest;

public sealed record AlterTopicConfigsResponse(IReadOnlyList<TopicResult> Results) : IBrokerResponse
{
    public ErrorCode Error => ErrorCode.None;
    public string? ErrorMessage => null;
}

/// <summary>A topic's new partition count: larger than today's (partitions are only ever added).</summary>
public sealed record PartitionCountChange(string Topic, int Count);

/// <summary>
/// Adds partitions to topics (Kafka's CreatePartitions); the registry places the new replicas as for a new topic.
/// Keys hash to other partitions afterwards, as in Kafka.
/// </summary>
public sealed record CreatePartitionsRequest(IReadOnlyList<PartitionCountChange> Topics, bool ValidateOnly = false) : IBrokerRequest;

public sealed record CreatePartitionsResponse(IReadOnlyList<TopicResult> Results) : IBrokerResponse
{
    public ErrorCode Error => ErrorCode.None;
    public string? ErrorMessage => null;
}
