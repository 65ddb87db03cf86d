using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Broker.IntegrationTests;

/// <summary>
/// A real `broker` process (the CLI built beside these tests), started with its own port and data
/// directory. Dispose kills it; <see cref="Kill"/> sends SIGKILL, as a crash would.
/// </summary>
public sealed class BrokerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private BrokerProcess(Process process)
    {
        _process = process;
    }

    public int Port { get; private init; }
    public string DataDir { get; private init; } = "";
    public string Bootstrap => $"127.0.0.1:{Port}";
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>The node's id in the cluster (written to its data directory on first start).</summary>
    public int NodeId => int.Parse(File.ReadAllText(Path.Combine(DataDir, "node.id")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
    public bool HasExited => _process.HasExited;

    /// <summary>The CLI built by the same configuration as these tests (bin/Release/net10.0 beside bin/Release/net10.0).</summary>
    public static string BrokerDll { get; } = FindBrokerDll();

    private static string FindBrokerDll()
    {
        var testDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testDir.Name;
        var configuration = testDir.Parent!.Name;
        for (var dir = testDir; dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Broker.sln"))) continue;
            var dll = Path.Combine(dir.FullName, "src", "Broker.Cli", "bin", configuration, framework, "broker.dll");
            if (File.Exists(dll)) return dll;
            throw new FileNotFoundException($"build the CLI first: {dll} is missing");
        }
        throw new DirectoryNotFoundException("could not find Broker.sln above " + testDir.FullName);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts `broker node` and waits until it says it is listening and its cluster is up.</summary>
    /// <param name="seed">host:port of the cluster's seed to join as a worker; null starts a node that seeds its own cluster.</param>
    public static async Task<BrokerProcess> StartNodeAsync(string dataDir, int? port = null, TimeSpan? timeout = null, string? seed = null)
    {
        var p = port ?? FreePort();
        string[] args = seed is null
            ? ["node", "--port", p.ToString(), "--data-dir", dataDir]
            : ["node", "--port", p.ToString(), "--data-dir", dataDir, "--seeds", seed, "--role", "worker"];
        var process = new Process { StartInfo = Cli(args) };
        var node = new BrokerProcess(process) { Port = p, DataDir = dataDir };
        process.OutputDataReceived += (_, e) => node.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => node.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var ready = await Task.WhenAny(node._listening.Task, process.WaitForExitAsync(), Task.Delay(timeout ?? TimeSpan.FromSeconds(60)));
        if (ready != node._listening.Task)
        {
            node.Dispose();
            throw new InvalidOperationException($"broker node did not start:\n{node.Output}");
        }
        return node;
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
        if (line.Contains("node ready", StringComparison.Ordinal)) _listening.TrySetResult();
    }

    /// <summary>SIGKILL: no shutdown hooks, no flush; what was acknowledged must already be on disk.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    public static ProcessStartInfo Cli(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(BrokerDll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("BROKER_BOOTSTRAP");
        return info;
    }

    /// <summary>Runs a CLI command to completion, feeding <paramref name="stdin"/>; returns exit code and output.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string? stdin, TimeSpan timeout, params string[] args)
    {
        using var process = new Process { StartInfo = Cli(args) };
        process.Start();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"broker {string.Join(' ', args)} did not finish in {timeout}: {await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
