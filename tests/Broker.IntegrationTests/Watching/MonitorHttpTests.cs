using System.Net;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Watching;

/// <summary>
/// A node's web server as a scraper, an orchestrator and a script use it: /health, /api/cluster, /api/events, the
/// server-sent-event stream, and /metrics checked by promtool with counters that move as records are produced and consumed.
/// </summary>
public sealed class MonitorHttpTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "broker-it", Guid.NewGuid().ToString("N"));
    private BrokerProcess _node = null!;

    public async Task InitializeAsync() => _node = await BrokerProcess.StartNodeAsync(_dataDir);

    public Task DisposeAsync()
    {
        _node.Dispose();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> Broker(string? stdin, params string[] args) =>
        CliProcess.RunAsync(stdin, CommandTimeout, [.. args, "--bootstrap", _node.Bootstrap]);

    [Fact]
    public async Task Health_api_stream_and_metrics_follow_produce_and_consume()
    {
        var http = MonitorPage.Http;
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"{_node.HttpBase}/health/live")).StatusCode);
        await global::Broker.Tests.Eventually.TrueAsync(async () => (await http.GetAsync($"{_node.HttpBase}/health/ready")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30), "/health/ready answers 200");

        Assert.Equal(0, (await Broker(null, "topics", "create", "metered", "--partitions", "2")).ExitCode);
        var lines = string.Concat(Enumerable.Range(0, 500).Select(i => $"k{i % 7}:v{i}\n"));
        Assert.Equal(0, (await Broker(lines, "produce", "metered", "--key-separator", ":")).ExitCode);
        Assert.Equal(0, (await Broker(null, "consume", "metered", "--group", "meters", "--from-beginning", "--max-messages", "300", "--timeout-ms", "20000")).ExitCode);

        string metrics = "";
        await global::Broker.Tests.Eventually.TrueAsync(async () =>
        {
            metrics = await MonitorPage.MetricsAsync(_node.HttpBase);
            return MonitorPage.Sample(metrics, "broker_records_in_total", "topic=\"metered\"") == 500
                && MonitorPage.Sample(metrics, "broker_records_out_total", "topic=\"metered\"") >= 300
                && MonitorPage.Sample(metrics, "broker_consumer_group_total_lag", "group=\"meters\"") == 200;
        }, TimeSpan.FromSeconds(30), "records in 500, out >= 300 and group lag 200 in /metrics");
        Assert.True(MonitorPage.Sample(metrics, "broker_produce_latency_seconds_count") >= 1);
        Assert.Equal(2, MonitorPage.Sample(metrics, "broker_partitions_led"));
        Assert.Equal(0, MonitorPage.Sample(metrics, "broker_under_replicated_partitions"));
        Assert.Equal(1, MonitorPage.Sample(metrics, "broker_cluster_members", "state=\"Up\""));
        Assert.NotNull(MonitorPage.Sample(metrics, "dotnet_collection_count_total"));
        Assert.NotNull(MonitorPage.Sample(metrics, "process_working_set_bytes"));
        if (File.Exists(MonitorPage.Promtool))
        {
            var (exit, said) = await MonitorPage.CheckAsync(metrics);
            output.WriteLine($"promtool check metrics: exit {exit} {said}");
            Assert.True(exit == 0, $"promtool check metrics failed: {said}");
        }
        else
        {
            output.WriteLine("promtool not installed (apt-get install prometheus): the exposition was not checked by Prometheus' parser");
        }

        using var cluster = JsonDocument.Parse(await http.GetStringAsync($"{_node.HttpBase}/api/cluster"));
        var snapshot = cluster.RootElement.GetProperty("snapshot");
        Assert.Equal("Up", snapshot.GetProperty("nodes")[0].GetProperty("state").GetString());
        Assert.Equal(2, snapshot.GetProperty("partitions").EnumerateArray().Count(p => p.GetProperty("topic").GetString() == "metered"));
        Assert.Contains("topic metered created (2 partitions)", await http.GetStringAsync($"{_node.HttpBase}/api/events"));

        // The live stream: the page's server-sent events carry the same view.
        using var stream = await http.GetStreamAsync($"{_node.HttpBase}/api/stream");
        using var reader = new StreamReader(stream);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var first = await reader.ReadLineAsync(cts.Token);
        Assert.StartsWith("data: {", first);
        Assert.Contains("\"metered\"", first);
    }
}
