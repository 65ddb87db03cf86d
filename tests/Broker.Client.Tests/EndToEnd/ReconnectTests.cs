using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Hosting;
using Xunit;
using static Broker.Client.Tests.Fakes.Batches;

namespace Broker.Client.Tests.EndToEnd;

/// <summary>Clients outlive a node restart: they notice the old gateway died and resolve the new one.</summary>
public sealed class ReconnectTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "broker-client-tests", Guid.NewGuid().ToString("N"));
    private readonly int _port = NodeFixture.FreePort();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return Task.CompletedTask;
    }

    private Task<BrokerNode> StartNode() => BrokerNode.StartAsync(new NodeOverrides { Port = _port, DataDir = _dataDir, KafkaPort = 0, HttpPort = 0 });

    [Fact]
    public async Task Clients_keep_working_after_the_node_restarts_on_the_same_address()
    {
        var bootstrap = $"127.0.0.1:{_port}";
        // A generous connect timeout: the first association to a node that just started can take seconds on a loaded CI machine.
        await using var admin = new AdminClient(new ClientConfig { BootstrapServers = bootstrap, RequestTimeout = TimeSpan.FromSeconds(10), ConnectTimeout = TimeSpan.FromSeconds(10) });
        await using var producer = new Producer(new ProducerConfig { BootstrapServers = bootstrap, RequestTimeout = TimeSpan.FromSeconds(10), ConnectTimeout = TimeSpan.FromSeconds(10) });

        var node = await StartNode();
        try
        {
            Assert.Equal(ErrorCode.None, Assert.Single(await admin.CreateTopicsAsync([new TopicSpec("restart", 1, 1, new Dictionary<string, string>())])).Error);
            Assert.Equal(0, (await producer.ProduceAsync("restart", new Message { Value = Bytes("before") })).Offset);
        }
        finally
        {
            await node.StopAsync();
        }

        node = await StartNode();
        try
        {
            // The first request after the restart may still go to the dead gateway and time out; the retry must work.
            var metadata = await admin.GetMetadataAsync(["restart"]);
            Assert.Equal(1, Assert.Single(metadata.Topics).Partitions[0].LogEndOffset);
            DeliveryResult? after = null;
            for (var attempt = 0; attempt < 3 && after is null; attempt++)
            {
                try
                {
                    after = await producer.ProduceAsync("restart", new Message { Value = Bytes("after") });
                }
                catch (BrokerException e) when (e.Error is ErrorCode.RequestTimedOut or ErrorCode.BrokerNotAvailable)
                {
                    // A produce is never retried by the client (it may have been stored): the application decides.
                }
            }
            Assert.Equal(1, after?.Offset);

            using var consumer = new Consumer(new ConsumerConfig { BootstrapServers = bootstrap });
            consumer.Assign([new("restart", 0, Offset.Beginning)]);
            Assert.Equal("before", Text(consumer.Consume(TimeSpan.FromSeconds(20))?.Value));
            Assert.Equal("after", Text(consumer.Consume(TimeSpan.FromSeconds(20))?.Value));
        }
        finally
        {
            await node.StopAsync();
        }
    }

    [Fact]
    public async Task A_consumer_waiting_on_a_node_that_stops_fails_fast_and_resumes_after_the_restart()
    {
        var bootstrap = $"127.0.0.1:{_port}";
        var node = await StartNode();
        using var consumer = new Consumer(new ConsumerConfig { BootstrapServers = bootstrap, FetchMaxWaitMs = 20_000, RequestTimeout = TimeSpan.FromSeconds(30) });
        try
        {
            await using var admin = new AdminClient(new ClientConfig { BootstrapServers = bootstrap });
            await admin.CreateTopicsAsync([new TopicSpec("wait", 1, 1, new Dictionary<string, string>())]);
            consumer.Assign([new("wait", 0, 0)]);
            Assert.Null(consumer.Consume(TimeSpan.FromMilliseconds(500))); // a long poll is now parked on the node
        }
        finally
        {
            await node.StopAsync();
        }

        // Death watch fails the parked fetch at once; re-resolving finds no node and says so, long before the 30 s timeout.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = Assert.Throws<BrokerException>(() => consumer.Consume(TimeSpan.FromSeconds(25)));
        Assert.Equal(ErrorCode.BrokerNotAvailable, error.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");

        node = await StartNode();
        try
        {
            await using var producer = new Producer(new ProducerConfig { BootstrapServers = bootstrap });
            await producer.ProduceAsync("wait", new Message { Value = Bytes("back") });
            ConsumeResult? record = null;
            for (var attempt = 0; attempt < 3 && record is null; attempt++)
            {
                try
                {
                    record = consumer.Consume(TimeSpan.FromSeconds(20));
                }
                catch (BrokerException e) when (e.Error is ErrorCode.BrokerNotAvailable or ErrorCode.RequestTimedOut)
                {
                    // Thrown once per failed fetch; the consumer keeps fetching.
                }
            }
            Assert.Equal("back", Text(record?.Value));
        }
        finally
        {
            await node.StopAsync();
        }
    }
}
