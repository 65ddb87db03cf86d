using System.Net.Http.Json;
using System.Text.Json;
using Broker.Server.Security;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit;

namespace Broker.IntegrationTests.Security;

/// <summary>
/// Three real `broker node` processes with mutual TLS between them (certificates from a fresh `broker certs` directory)
/// and a metadata quorum (--voters, each controller channel on a known port), started once for the tests that try to
/// get in without the right certificate. The quorum's Raft port and controller channel run TLS too, so creating the
/// topic proves the voters commit over it. A topic with two replicas and min.insync.replicas=2 proves the nodes still
/// replicate to each other: an acks=all produce needs both.
/// </summary>
public sealed class TlsClusterFixture : IAsyncLifetime
{
    public const string Topic = "tls-serving";
    public const int Size = 3;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "broker-tls-" + Guid.NewGuid().ToString("N"));

    public CertificateFiles Certs { get; private set; } = null!;
    public BrokerProcess Seed { get; private set; } = null!;
    public BrokerProcess Worker { get; private set; } = null!;
    public BrokerProcess Third { get; private set; } = null!;
    public string Root => _root;

    /// <summary>Each voter's Raft port and controller channel port (index = node id - 1).</summary>
    public int[] RaftPorts { get; } = [BrokerProcess.FreePort(), BrokerProcess.FreePort(), BrokerProcess.FreePort()];
    public int[] ControllerPorts { get; } = [BrokerProcess.FreePort(), BrokerProcess.FreePort(), BrokerProcess.FreePort()];

    public static IReadOnlyList<string> TlsArgs(string ca, CertificateFiles.Issued node) =>
        ["--cluster-ca", ca, "--node-cert", node.Certificate, "--node-key", node.Key];

    public async Task InitializeAsync()
    {
        Certs = new CertificateFiles(Path.Combine(_root, "certs"));
        Certs.CreateCas(TimeSpan.FromDays(1), overwrite: false);
        Seed = await StartVoterAsync(1, seed: null);
        Worker = await StartVoterAsync(2, Seed.Bootstrap);
        Third = await StartVoterAsync(3, Seed.Bootstrap);
        await WaitForUpMembersAsync(Size);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Seed.KafkaBootstrap }).Build();
        await Broker.Tests.Eventually.TrueAsync(async () =>
        {
            await admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = Topic, NumPartitions = 2, ReplicationFactor = 2,
                Configs = new Dictionary<string, string> { ["min.insync.replicas"] = "2" },
            }]);
            return true;
        }, TimeSpan.FromSeconds(30), "topic created over the TLS cluster");
    }

    private async Task<BrokerProcess> StartVoterAsync(int id, string? seed)
    {
        var node = Certs.IssueNode(id.ToString(System.Globalization.CultureInfo.InvariantCulture), ["127.0.0.1"], TimeSpan.FromDays(1), null, false);
        var conf = Path.Combine(_root, $"quorum-{id}.conf");
        await File.WriteAllTextAsync(conf, $"broker.metadata.quorum.controller-port = {ControllerPorts[id - 1]}\n");
        var voters = string.Join(",", RaftPorts.Select((port, i) => $"{i + 1}@127.0.0.1:{port}"));
        return await BrokerProcess.StartNodeAsync(Path.Combine(_root, $"n{id}"), timeout: TimeSpan.FromSeconds(90), seed: seed,
            extraArgs: [.. TlsArgs(Certs.ClusterCa, node), "--node-id", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--voters", voters, "--config", conf]);
    }

    /// <summary>The members the seed's /api/cluster lists as Up.</summary>
    public async Task<int> UpMembersAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var doc = await http.GetFromJsonAsync<JsonElement>($"{Seed.HttpBase}/api/cluster");
        return doc.GetProperty("snapshot").GetProperty("nodes").EnumerateArray().Count(n => n.GetProperty("state").GetString() == "Up");
    }

    public Task WaitForUpMembersAsync(int count) =>
        Broker.Tests.Eventually.TrueAsync(async () => await UpMembersAsync() == count, TimeSpan.FromSeconds(60), $"{count} Up members");

    /// <summary>Produces one record with acks=all through each node's Kafka listener: both replicas must take it.</summary>
    public async Task AssertServesAsync()
    {
        foreach (var node in new[] { Seed, Worker })
        {
            using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
            {
                BootstrapServers = node.KafkaBootstrap, Acks = Acks.All, MessageTimeoutMs = 30000,
            }).Build();
            DeliveryResult<Null, string> delivered;
            try
            {
                delivered = await producer.ProduceAsync(Topic, new Message<Null, string> { Value = "still serving" });
            }
            catch (ProduceException<Null, string> e)
            {
                // Seen once in CI: every acks=all produce timed out right after the fixture started, and never again in
                // isolated runs. Say what the nodes warned about, so that the next time names the cause.
                throw new Xunit.Sdk.XunitException($"an acks=all produce through node {node.Port} failed ({e.Error.Reason}); the nodes' warnings and errors:\n"
                    + string.Join("\n", new[] { Seed, Worker, Third }.Select(n => $"--- node {n.Port}\n{Warnings(n)}")));
            }
            Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
        }
        Assert.False(Seed.HasExited, Seed.Output);
        Assert.False(Worker.HasExited, Worker.Output);
        Assert.False(Third.HasExited, Third.Output);
    }

    /// <summary>The last 40 warnings and errors in <paramref name="node"/>'s output.</summary>
    private static string Warnings(BrokerProcess node) =>
        string.Join("\n", node.Output.Split('\n').Where(line => line.Contains("[WARNING]", StringComparison.Ordinal) || line.Contains("[ERROR]", StringComparison.Ordinal)).TakeLast(40));

    /// <summary>How many times <paramref name="node"/>'s output so far contains <paramref name="text"/>.</summary>
    public static int Count(BrokerProcess node, string text)
    {
        var output = node.Output;
        var count = 0;
        for (var at = output.IndexOf(text, StringComparison.Ordinal); at >= 0; at = output.IndexOf(text, at + text.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    /// <summary>Waits until <paramref name="node"/> has logged <paramref name="text"/> more than <paramref name="before"/> times.</summary>
    public static Task WaitForMoreAsync(BrokerProcess node, string text, int before, string what) =>
        Broker.Tests.Eventually.TrueAsync(() => Task.FromResult(Count(node, text) > before), TimeSpan.FromSeconds(60), what);

    /// <summary>Removes a test's directory; a file still held open by a process that is going away is left behind.</summary>
    public static void DeleteQuietly(string directory)
    {
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public Task DisposeAsync()
    {
        Third?.Dispose();
        Worker?.Dispose();
        Seed?.Dispose();
        TlsClusterFixture.DeleteQuietly(_root);
        return Task.CompletedTask;
    }
}
