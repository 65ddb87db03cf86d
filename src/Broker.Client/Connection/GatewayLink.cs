// A resolved gateway and the token that fires when it is known to be gone.
using System.Diagnostics.CodeAnalysis;
using Akka.Actor;

namespace Broker.Client.Connection;

/// <summary>
/// <see cref="Lost"/> is cancelled when the gateway dies (death watch) or stops answering, so requests
/// waiting on it fail at once instead of waiting out their timeout.
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "A lost link's token stays in use by the requests that hold it; a CancellationTokenSource without a timer needs no Dispose.")]
internal sealed class GatewayLink(IActorRef gateway, int bootstrapIndex)
{
    private readonly CancellationTokenSource _lost = new();

    public IActorRef Gateway { get; } = gateway;
    public int BootstrapIndex { get; } = bootstrapIndex;
    public CancellationToken Lost => _lost.Token;

    public void MarkLost() => _lost.Cancel();
}
