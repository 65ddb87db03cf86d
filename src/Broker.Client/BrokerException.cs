// The one exception type clients throw for broker-side and connection errors: a typed code plus a message naming the fix.
using Broker.Protocol;

namespace Broker.Client;

/// <summary>
/// A request failed: <see cref="Error"/> says how (the broker's <see cref="ErrorCode"/>, or
/// <c>BrokerNotAvailable</c> / <c>RequestTimedOut</c> for connection trouble) and the message says what to do.
/// </summary>
public sealed class BrokerException : Exception
{
    /// <summary>A failure with the broker's (or the client's) error code and a message that names the fix.</summary>
    public BrokerException(ErrorCode error, string message) : base(message)
    {
        Error = error;
    }

    /// <summary>A failure with its error code, message and the exception that caused it.</summary>
    public BrokerException(ErrorCode error, string message, Exception? inner) : base(message, inner)
    {
        Error = error;
    }

    /// <summary>What went wrong, as the broker's error code.</summary>
    public ErrorCode Error { get; }
}
