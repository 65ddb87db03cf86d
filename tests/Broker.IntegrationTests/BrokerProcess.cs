using System.Globalization;
using System.Text;

namespace Broker.IntegrationTests;

/// <summary>
/// A real `broker node` process (a <see cref="CliProcess"/>), started with its own port and data directory.
/// Dispose kills it; <see cref="Kill"/> sends SIGKILL, as a crash would.
/// </summary>
public sealed class BrokerProcess : IDisposable
{
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CliProcess _process = null!;

    private BrokerProcess()
    {
    }

    public int Port { get; private init; }
    /// <summary>Port of the node's Kafka listener (a free one, so nodes on this host never share 9092).</summary>
    public int KafkaPort { get; private init; }
    public string KafkaBootstrap => $"{Host}:{KafkaPort}";
    /// <summary>The address the node listens on: 127.0.0.1, or its own in a <see cref="Replication.NetworkLab"/>.</summary>
    public string Host { get; private init; } = "127.0.0.1";
    /// <summary>Port of the node's web page, /api, /metrics and /health (a free one: 8080 may be taken, and nodes here never share it).</summary>
    public int HttpPort { get; private init; }
    public string HttpBase => $"http://{Host}:{HttpPort}";
    public string DataDir { get; private init; } = "";
    public string Bootstrap => $"{Host}:{Port}";
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>The node's id in the cluster (written to its data directory on first start).</summary>
    public int NodeId => int.Parse(File.ReadAllText(Path.Combine(DataDir, "node.id")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
    public bool HasExited => _process.HasExited;

    public static int FreePort() => Broker.Tests.TestPorts.Free();

    /// <summary>
    /// Starts `broker node` and waits until it says it is listening and its cluster is up (or, with
    /// <paramref name="waitUntilUp"/> false, only listening: a node that waits for the rest of its cluster).
    /// <paramref name="seed"/> is host:port of the cluster's seed to join as a worker; null starts a node that seeds
    /// its own cluster. <paramref name="extraArgs"/> are added to the command line (e.g. --cluster-ca and the node's files).
    /// </summary>
    public static async Task<BrokerProcess> StartNodeAsync(string dataDir, int? port = null, TimeSpan? timeout = null, string? seed = null, string? rack = null, int? httpPort = null, bool waitUntilUp = true,
        IReadOnlyList<string>? extraArgs = null, string? host = null, string? netns = null)
    {
        var p = port ?? FreePort();
        var kafkaPort = FreePort();
        var http = httpPort ?? FreePort();
        string[] args = seed is null
            ? ["node", "--port", p.ToString(CultureInfo.InvariantCulture), "--kafka-port", kafkaPort.ToString(CultureInfo.InvariantCulture), "--data-dir", dataDir]
            : ["node", "--port", p.ToString(CultureInfo.InvariantCulture), "--kafka-port", kafkaPort.ToString(CultureInfo.InvariantCulture), "--data-dir", dataDir, "--seeds", seed, "--role", "worker"];
        args = [.. args, "--http-port", http.ToString(CultureInfo.InvariantCulture)];
        if (rack is not null) args = [.. args, "--rack", rack];
        if (extraArgs is not null) args = [.. args, .. extraArgs];
        if (host is not null) args = [.. args, "--host", host];
        var node = new BrokerProcess { Port = p, KafkaPort = kafkaPort, HttpPort = http, DataDir = dataDir, Host = host ?? "127.0.0.1" };
        node._process = CliProcess.StartWatchingIn(netns, node.OnLine, node.OnLine, args);
        var awaited = waitUntilUp ? node._listening.Task : node._started.Task;
        var ready = await Task.WhenAny(awaited, node._process.WaitForExitAsync(), Task.Delay(timeout ?? TimeSpan.FromSeconds(60)));
        if (ready != awaited)
        {
            node.Dispose();
            throw new InvalidOperationException($"broker node did not start:\n{node.Output}");
        }
        return node;
    }

    private void OnLine(string line)
    {
        lock (_output) _output.AppendLine(line);
        if (line.Contains("node ready", StringComparison.Ordinal)) _listening.TrySetResult();
        if (line.Contains("broker node listening", StringComparison.Ordinal)) _started.TrySetResult();
    }

    /// <summary>SIGKILL: no shutdown hooks, no flush; what was acknowledged must already be on disk.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGSTOP: the node freezes (as in a long GC pause) until <see cref="Resume"/>.</summary>
    public void Pause() => _process.Signal("STOP");

    public void Resume() => _process.Signal("CONT");

    /// <summary>
    /// Kills the process. With BROKER_TEST_LOG_DIR set, its whole output is kept there first (one file per process),
    /// so a failure that only shows up now and then can be read afterwards in full.
    /// </summary>
    public void Dispose()
    {
        _process.Dispose();
        if (Environment.GetEnvironmentVariable("BROKER_TEST_LOG_DIR") is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, $"{DateTime.UtcNow:HHmmss.fff}-node-{Host}-{Port}.log"), Output);
        }
    }
}
