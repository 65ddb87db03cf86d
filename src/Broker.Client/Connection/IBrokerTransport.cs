// The seam between clients and the network: GatewayConnection in production, a fake in unit tests.
using Broker.Protocol.Messages;

namespace Broker.Client.Connection;

internal interface IBrokerTransport : IDisposable, IAsyncDisposable
{
    /// <summary>
    /// Sends <paramref name="request"/> now and returns its reply (a response or an <see cref="ErrorResponse"/>).
    /// Calls from one thread leave in call order, which is what keeps a partition's batches in order; so this
    /// blocks the caller while the gateway is being resolved. Never retried (a produce is not idempotent).
    /// Fails with <see cref="BrokerException"/> (BrokerNotAvailable, RequestTimedOut).
    /// </summary>
    Task<object> Send(IBrokerRequest request, TimeSpan timeout);

    /// <summary>Sends without a reply (acks=0). Blocks while the gateway is being resolved.</summary>
    void SendOneWay(IBrokerRequest request);

    /// <summary>
    /// A request whose reply is <typeparamref name="TResponse"/>. An <see cref="ErrorResponse"/> becomes a
    /// <see cref="BrokerException"/>; an <paramref name="idempotent"/> request that times out is sent once more
    /// after resolving the gateway again.
    /// </summary>
    Task<TResponse> RequestAsync<TResponse>(IBrokerRequest request, bool idempotent, CancellationToken cancellationToken = default)
        where TResponse : class, IBrokerResponse;
}
