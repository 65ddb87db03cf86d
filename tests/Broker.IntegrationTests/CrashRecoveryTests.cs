using System.Collections.Concurrent;
using System.Text;
using Broker.Client;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests;

/// <summary>SIGKILL a real node in the middle of producing; every acknowledged record must survive at its offset.</summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "broker-it", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Acknowledged_records_survive_SIGKILL_at_the_same_offset_with_the_same_content()
    {
        var port = BrokerProcess.FreePort();
        var acknowledged = new ConcurrentDictionary<(int Partition, long Offset), string>();
        using (var node = await BrokerProcess.StartNodeAsync(_dataDir, port))
        {
            await using (var admin = new AdminClient(new ClientConfig { BootstrapServers = node.Bootstrap }))
            {
                var created = await admin.CreateTopicsAsync([new TopicSpec("crash", 4, 1, new Dictionary<string, string>())]);
                Assert.Equal(ErrorCode.None, created[0].Error);
            }

            var producer = new Producer(new ProducerConfig { BootstrapServers = node.Bootstrap, Acks = Acks.All, LingerMs = 2, RequestTimeout = TimeSpan.FromSeconds(5) });
            var killAfter = new TaskCompletionSource();
            var failures = 0;
            for (var i = 0; i < 400_000; i++)
            {
                var value = $"record-{i}";
                producer.Produce("crash", new Message { Key = Encoding.UTF8.GetBytes($"key-{i % 97}"), Value = Encoding.UTF8.GetBytes(value) }, (result, error) =>
                {
                    if (result is not null)
                    {
                        acknowledged[(result.Partition, result.Offset)] = value;
                        if (acknowledged.Count >= 30_000) killAfter.TrySetResult();
                    }
                    else
                    {
                        Interlocked.Increment(ref failures);
                    }
                });
                if (killAfter.Task.IsCompleted) break;
                if ((i & 1023) == 0) await Task.Yield();
            }
            await killAfter.Task.WaitAsync(TimeSpan.FromSeconds(60));
            node.Kill();
            output.WriteLine($"killed after {acknowledged.Count} acknowledgements");
            try { await producer.FlushAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token); } catch (Exception ex) { output.WriteLine($"flush after kill: {ex.Message}"); }
            producer.Dispose();
        }

        var snapshot = acknowledged.ToArray();
        Assert.True(snapshot.Length >= 30_000);
        using var restarted = await BrokerProcess.StartNodeAsync(_dataDir, port);
        var stored = await LogReader.ReadAllAsync(restarted.Bootstrap, "crash", 4, TimeSpan.FromSeconds(120));
        var missing = 0;
        foreach (var ((partition, offset), value) in snapshot)
        {
            if (!stored.TryGetValue((partition, offset), out var actual) || actual != value) missing++;
        }
        Assert.Equal(0, missing);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }
}
