using System.Collections.Concurrent;
using System.Diagnostics;

namespace Broker.IntegrationTests;

/// <summary>
/// The `broker` CLI (built beside these tests) as a process: <see cref="RunAsync"/> runs a command to completion;
/// <see cref="Start"/> keeps one running (e.g. a group consumer, or a node through <see cref="BrokerProcess"/>) and
/// collects its output lines as they come. Dispose kills it.
/// </summary>
public sealed class CliProcess : IDisposable
{
    private readonly Process _process;

    private CliProcess(Process process)
    {
        _process = process;
    }

    public ConcurrentQueue<string> Lines { get; } = new();
    public ConcurrentQueue<string> Errors { get; } = new();
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

    /// <summary>`dotnet broker.dll args...` with its streams redirected and no BROKER_BOOTSTRAP from the environment.</summary>
    public static ProcessStartInfo StartInfo(params string[] args) => StartInfoIn(null, args);

    /// <summary>As <see cref="StartInfo"/>, run in network namespace <paramref name="netns"/> when given (`ip netns exec`, which execs: same pid).</summary>
    private static ProcessStartInfo StartInfoIn(string? netns, string[] args)
    {
        var info = new ProcessStartInfo(netns is null ? "dotnet" : "ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (netns is not null)
        {
            foreach (var a in new[] { "netns", "exec", netns, "dotnet" }) info.ArgumentList.Add(a);
        }
        info.ArgumentList.Add(BrokerDll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("BROKER_BOOTSTRAP");
        return info;
    }

    /// <summary>Starts a command that keeps running; its lines go to <see cref="Lines"/> (stdout) and <see cref="Errors"/> (stderr).</summary>
    public static CliProcess Start(params string[] args)
    {
        CliProcess? cli = null;
        cli = StartWatching(line => cli!.Lines.Enqueue(line), line => cli!.Errors.Enqueue(line), args);
        return cli;
    }

    /// <summary>Starts a command that keeps running and hands each output line to a callback as it comes.</summary>
    public static CliProcess StartWatching(Action<string> onStdout, Action<string> onStderr, params string[] args) =>
        StartWatchingIn(null, onStdout, onStderr, args);

    /// <summary>As <see cref="StartWatching"/>, in network namespace <paramref name="netns"/> when given.</summary>
    public static CliProcess StartWatchingIn(string? netns, Action<string> onStdout, Action<string> onStderr, params string[] args)
    {
        var process = new Process { StartInfo = StartInfoIn(netns, args) };
        var cli = new CliProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) onStdout(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) onStderr(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    public Task WaitForExitAsync() => _process.WaitForExitAsync();

    /// <summary>Sends a signal (STOP, CONT, ...) with kill(1): .NET's Process has no API for it.</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {_process.Id}");
        kill.WaitForExit();
    }

    /// <summary>Runs a CLI command to completion, feeding <paramref name="stdin"/>; returns exit code and output.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string? stdin, TimeSpan timeout, params string[] args) =>
        RunToExitAsync(Process.Start(StartInfo(args))!, stdin, timeout, $"broker {string.Join(' ', args)}");

    /// <summary>
    /// Feeds <paramref name="stdin"/> to a started process (streams redirected), waits for it to exit and returns its
    /// exit code and output; kills it and throws TimeoutException, with its stderr, if it runs past <paramref name="timeout"/>.
    /// </summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToExitAsync(Process process, string? stdin, TimeSpan timeout, string what)
    {
        using (process)
        {
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
                throw new TimeoutException($"{what} did not finish in {timeout}: {await stderr}");
            }
            return (process.ExitCode, await stdout, await stderr);
        }
    }

    /// <summary>SIGKILL, as a crash: no commit, no leave, no flush.</summary>
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
}
