namespace Broker.Protocol.Messages;

/// <summary>Asks for nodes, their roles and state, and which node hosts which partition.</summary>
public sealed record ClusterStatusRequest : IBrokerRequest;

public sealed record HostedPartition(string Topic, int Partition, string Address);

public sealed record ClusterStatusResponse(IReadOnlyList<BrokerInfo> Brokers, IReadOnlyList<HostedPartition> Partitions) : IBrokerResponse
{
    public ErrorCode Error => ErrorCode.None;
    public string? ErrorMessage => null;
}

/// <summary>The reply to a request the gateway could not read or does not know.</summary>
public sealed record ErrorResponse(ErrorCode Error, string? ErrorMessage) : IBrokerResponse;
