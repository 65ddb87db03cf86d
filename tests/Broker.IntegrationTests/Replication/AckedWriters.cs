using System.Text;
using Broker.Client;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// Load for the replication checks: one writer per partition, <c>inFlight</c> records outstanding each, every value
/// unique, every outcome recorded in an <see cref="AckChecker"/>. With acks=all the producer is idempotent and
/// retries through a failover itself; a send that still fails backs off briefly and is not acknowledged, so it
/// may be lost (and is never sent again by the writer: values stay unique).
/// </summary>
public static class AckedWriters
{
    public static async Task RunAsync(AckChecker checker, string bootstrap, string topic, Acks acks, CancellationToken stop, int inFlight = 32)
    {
        await using var producer = new Producer(new ProducerConfig
        {
            BootstrapServers = bootstrap, Acks = acks, LingerMs = 2, RequestTimeout = TimeSpan.FromSeconds(3),
        });
        var writers = Enumerable.Range(0, checker.Partitions).Select(async partition =>
        {
            var sequence = 0;
            var sends = new Task[inFlight];
            while (!stop.IsCancellationRequested)
            {
                for (var i = 0; i < sends.Length; i++) sends[i] = SendAsync(checker, producer, topic, partition, $"p{partition}-{sequence++}");
                await Task.WhenAll(sends);
            }
        });
        await Task.WhenAll(writers);
    }

    private static async Task SendAsync(AckChecker checker, Producer producer, string topic, int partition, string value)
    {
        var sentAt = Environment.TickCount64;
        try
        {
            var result = await producer.ProduceAsync(topic, partition, new Message { Value = Encoding.UTF8.GetBytes(value) });
            checker.Acknowledged(result.Partition, result.Offset, value, sentAt);
        }
        catch (BrokerException)
        {
            checker.Failed();
            await Task.Delay(100); // do not spin while a leader moves
        }
    }
}
