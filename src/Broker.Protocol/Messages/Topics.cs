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

/// <summary>Asks for cluster and topic metadata; <paramref name="Topics"/> null means every topic.</summary>
public sealed record MetadataRequest(IReadOnlyList<string>? Topics) : IBrokerRequest;

/// <summary>A node of the cluster as the gateway sees it. Status is Akka.Cluster's member status (Up, Leaving, ...) or Unreachable.</summary>
public sealed record BrokerInfo(string Address, string Host, int Port, IReadOnlyList<string> Roles, string Status);

/// <summary>One partition: the node that hosts (leads) it and its offsets.</summary>
public sealed record PartitionMetadata(int Partition, string Leader, long LogStartOffset, long LogEndOffset, ErrorCode Error, string? ErrorMessage);

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
