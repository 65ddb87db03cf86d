using System.Diagnostics;
using Broker.Protocol.Records;

namespace Broker.Client.Internal;

/// <summary>
/// Records accumulated for one partition, written straight into RecordBatch v2 bytes, with the
/// delivery reports to complete when the node answers.
/// </summary>
internal sealed class ProducerBatch(TopicPartition partition, RecordBatchBuilder builder)
{
    private Delivery[] _deliveries = new Delivery[64];

    public TopicPartition Partition { get; } = partition;
    public RecordBatchBuilder Builder { get; } = builder;
    public long CreatedTicks { get; } = Stopwatch.GetTimestamp();
    public int Count => Builder.Count;

    /// <summary>Bytes reserved against buffer.memory for this batch's records.</summary>
    public long ReservedBytes { get; set; }

    public void Add(Message message, Delivery delivery)
    {
        var timestamp = (message.Timestamp ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds();
        Builder.Append(timestamp, message.Key, message.Value, message.Headers);
        if (Builder.Count > _deliveries.Length) Array.Resize(ref _deliveries, _deliveries.Length * 2);
        _deliveries[Builder.Count - 1] = delivery;
    }

    public void Complete(long baseOffset)
    {
        for (var i = 0; i < Count; i++)
            _deliveries[i].Succeed(new DeliveryResult(Partition.Topic, Partition.Partition, baseOffset < 0 ? -1 : baseOffset + i));
    }

    public void Fail(BrokerException error)
    {
        for (var i = 0; i < Count; i++) _deliveries[i].Fail(error);
    }
}

/// <summary>Where one record's outcome goes: a callback or a task.</summary>
internal readonly struct Delivery(Action<DeliveryResult?, BrokerException?>? callback, TaskCompletionSource<DeliveryResult>? task)
{
    public void Succeed(DeliveryResult result)
    {
        if (callback is not null) Invoke(callback, result, null);
        else task?.TrySetResult(result);
    }

    public void Fail(BrokerException error)
    {
        if (callback is not null) Invoke(callback, null, error);
        else task?.TrySetException(error);
    }

    private static void Invoke(Action<DeliveryResult?, BrokerException?> callback, DeliveryResult? result, BrokerException? error)
    {
        try
        {
            callback(result, error);
        }
        catch (Exception ex)
        {
            // A throwing user callback must not stop other deliveries.
            Trace.TraceError($"delivery callback threw: {ex}");
        }
    }
}
