using Broker.Protocol;

namespace Broker.Client;

/// <summary>A request failed: <see cref="Error"/> says why, the message says what to do.</summary>
public sealed class BrokerException(ErrorCode error, string message) : Exception(message)
{
    public ErrorCode Error { get; } = error;
}
