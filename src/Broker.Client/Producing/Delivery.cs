// Reports one record's outcome to whichever form the caller used: a Task or a callback.
namespace Broker.Client.Producing;

internal static class Delivery
{
    /// <summary>Set while a delivery callback runs, so Flush/Dispose from inside one fail fast instead of deadlocking.</summary>
    [ThreadStatic] private static bool t_inCallback;

    public static bool InCallback => t_inCallback;

    public static void Succeed(object delivery, DeliveryResult result)
    {
        if (delivery is TaskCompletionSource<DeliveryResult> task) task.TrySetResult(result);
        else Invoke((Action<DeliveryResult?, BrokerException?>)delivery, result, null);
    }

    public static void Fail(object delivery, BrokerException error)
    {
        if (delivery is TaskCompletionSource<DeliveryResult> task) task.TrySetException(error);
        else Invoke((Action<DeliveryResult?, BrokerException?>)delivery, null, error);
    }

    public static void Cancel(object delivery, CancellationToken token)
    {
        if (delivery is TaskCompletionSource<DeliveryResult> task) task.TrySetCanceled(token);
        else Fail(delivery, new BrokerException(Broker.Protocol.ErrorCode.RequestTimedOut, "produce was cancelled before the record was accepted"));
    }

    private static void Invoke(Action<DeliveryResult?, BrokerException?> callback, DeliveryResult? result, BrokerException? error)
    {
        var outer = t_inCallback;
        t_inCallback = true;
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
            t_inCallback = outer;
        }
    }
}
