using System.Text;
using Broker.Client;
using Broker.Protocol.Messages;

namespace Broker.IntegrationTests;

/// <summary>Reads a topic's partitions from the start to their current ends (the high watermark), through the cluster.</summary>
public static class LogReader
{
    /// <summary>Every record below each partition's end as (partition, offset) → UTF-8 value; what could not be read in time is missing.</summary>
    /// <remarks><paramref name="clientHost"/>: the address nodes reach this process at, when they run in a <see cref="Replication.NetworkLab"/>.</remarks>
    public static async Task<Dictionary<(int Partition, long Offset), string>> ReadAllAsync(string bootstrap, string topic, int partitions, TimeSpan timeout, string? clientHost = null)
    {
        var stored = new Dictionary<(int, long), string>();
        await using var admin = new AdminClient(new ClientConfig { BootstrapServers = bootstrap, ClientHost = clientHost });
        using var consumer = new Consumer(new ConsumerConfig { BootstrapServers = bootstrap, FetchMaxWaitMs = 100, ClientHost = clientHost });
        var ends = new long[partitions];
        for (var p = 0; p < partitions; p++) ends[p] = (await admin.ListOffsetsAsync(topic, p, OffsetSpec.Latest)).Offset;
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)).ToList());
        var expected = ends.Sum();
        var deadline = DateTime.UtcNow + timeout;
        while (stored.Count < expected && DateTime.UtcNow < deadline)
        {
            try
            {
                if (consumer.Consume(TimeSpan.FromSeconds(1)) is { } r && r.Offset < ends[r.Partition])
                    stored[(r.Partition, r.Offset)] = Encoding.UTF8.GetString(r.Value!);
            }
            catch (BrokerException)
            {
                // thrown once per failed fetch (a node is down or a leader moving); the consumer fetches again
            }
        }
        return stored;
    }
}
