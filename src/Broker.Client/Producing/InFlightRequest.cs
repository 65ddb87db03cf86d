// One produce request between sending and reporting its deliveries.
namespace Broker.Client.Producing;

internal sealed class InFlightRequest(Sender owner, ProducerBatch[] batches)
{
    public Sender Owner { get; } = owner;
    public ProducerBatch[] Batches { get; } = batches;

    /// <summary>The reply (ProduceResponse, ErrorResponse) or the failure; set once the request is done.</summary>
    public Task<object>? Outcome { get; set; }

    /// <summary>Disposal gave up waiting and already failed its batches: a late reply is ignored.</summary>
    public bool Abandoned { get; set; }

    /// <summary>Batches of a failed partition that were queued behind an earlier failure: failed after this request's own, to keep order.</summary>
    public List<(ProducerBatch Batch, BrokerException Error)>? FailAfter { get; set; }
}
