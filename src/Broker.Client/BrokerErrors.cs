// The one place a reply becomes a BrokerException: error replies, failures of the transport, and replies of the wrong type.
using Akka.Actor;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Client;

/// <summary>Maps the broker's replies to <see cref="BrokerException"/>, so every client call reports an error the same way.</summary>
internal static class BrokerErrors
{
    /// <summary>The exception for an error code and the broker's message (the code's name, or <paramref name="fallback"/>, when it sent none).</summary>
    public static BrokerException From(ErrorCode error, string? message, string? fallback = null) =>
        new(error, message ?? fallback ?? error.ToString());

    /// <summary>The exception a failed reply stands for.</summary>
    public static BrokerException From(IBrokerResponse reply) => From(reply.Error, reply.ErrorMessage);

    /// <summary>The reply if it says <see cref="ErrorCode.None"/>; else throws its error.</summary>
    public static T ThrowIfFailed<T>(T reply) where T : IBrokerResponse =>
        reply.Error == ErrorCode.None ? reply : throw From(reply);

    /// <summary>The reply as <typeparamref name="T"/> (whatever its error code), else throws what it stands for (see <see cref="Of"/>).</summary>
    public static T Expect<T>(object reply, string what) where T : class, IBrokerResponse =>
        reply as T ?? throw Of(reply, what);

    /// <summary>
    /// What a reply that is not the expected one means: an error reply's own code; a failed ask's cause; else a
    /// reply of a type the request does not expect (client and broker versions differ).
    /// </summary>
    public static BrokerException Of(object? reply, string what) => reply switch
    {
        IBrokerResponse { Error: not ErrorCode.None } failed => From(failed),
        Status.Failure failure => failure.Cause as BrokerException
            ?? new BrokerException(ErrorCode.Unknown, $"{what} failed: {failure.Cause?.Message}", failure.Cause),
        null => new BrokerException(ErrorCode.Unknown, $"{what} got no reply"),
        _ => new BrokerException(ErrorCode.Unknown, $"{what} got an unexpected reply {reply.GetType().Name}; check that client and broker versions match"),
    };
}
