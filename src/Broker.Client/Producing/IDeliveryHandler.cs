// How one record's outcome reaches the caller: the task form and the callback form behind one interface.
using System.Runtime.CompilerServices;

namespace Broker.Client.Producing;

/// <summary>
/// Receives one record's outcome, exactly once, in produce order per partition. As in Confluent.Kafka, the task
/// form and the callback form implement it; unlike its per-record Action shim, the callback form is one shared
/// handler and the caller's delegate travels as <c>state</c>, so neither form allocates more than the caller's own
/// task or delegate.
/// </summary>
internal interface IDeliveryHandler
{
    void Succeed(object? state, DeliveryResult result);

    void Fail(object? state, BrokerException error);

    /// <summary>The caller cancelled before the record was accepted.</summary>
    void Cancel(object? state, CancellationToken token);
}

/// <summary>One record's delivery as a batch keeps it: its handler and the handler's state.</summary>
internal readonly struct Delivery(IDeliveryHandler handler, object? state)
{
    public void Succeed(DeliveryResult result) => handler.Succeed(state, result);

    public void Fail(BrokerException error) => handler.Fail(state, error);

    public void Cancel(CancellationToken token) => handler.Cancel(state, token);

    public static Delivery Of(TaskDelivery task) => new(task, null);

    public static Delivery Of(Action<DeliveryResult?, BrokerException?> callback) => new(CallbackDelivery.Instance, callback);
}

/// <summary>ProduceAsync's delivery: the task source itself, so the typed form costs no more than the task did.</summary>
internal sealed class TaskDelivery() : TaskCompletionSource<DeliveryResult>(TaskCreationOptions.RunContinuationsAsynchronously), IDeliveryHandler
{
    public void Succeed(object? state, DeliveryResult result) => TrySetResult(result);

    public void Fail(object? state, BrokerException error) => TrySetException(error);

    public void Cancel(object? state, CancellationToken token) => TrySetCanceled(token);
}

/// <summary>Produce's delivery: calls the caller's callback (the state) and keeps a throwing callback from stopping other deliveries.</summary>
internal sealed class CallbackDelivery : IDeliveryHandler
{
    public static readonly CallbackDelivery Instance = new();

    /// <summary>Set while a delivery callback runs, so Flush/Dispose from inside one fail fast instead of deadlocking.</summary>
    [ThreadStatic] private static bool _inCallback;

    private CallbackDelivery()
    {
    }

    public static bool InCallback => _inCallback;

    public void Succeed(object? state, DeliveryResult result) => Invoke(state, result, null);

    public void Fail(object? state, BrokerException error) => Invoke(state, null, error);

    public void Cancel(object? state, CancellationToken token) =>
        Invoke(state, null, new BrokerException(Broker.Protocol.ErrorCode.RequestTimedOut, "produce was cancelled before the record was accepted"));

    private static void Invoke(object? state, DeliveryResult? result, BrokerException? error)
    {
        // Only Delivery.Of(callback) pairs this handler with a state, and always with the callback.
        var callback = Unsafe.As<Action<DeliveryResult?, BrokerException?>>(state!);
        var outer = _inCallback;
        _inCallback = true;
        try
        {
            callback(result, error);
        }
        catch (Exception ex)
        {
            // A throwing callback must not stop the deliveries of other records; say so where a developer looks.
            Console.Error.WriteLine($"broker-client: a delivery callback threw {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            _inCallback = outer;
        }
    }
}
