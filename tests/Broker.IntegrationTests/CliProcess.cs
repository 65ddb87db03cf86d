using System.Collections.Concurrent;
using System.Diagnostics;

namespace Broker.IntegrationTests;

/// <summary>A long-running `broker` client command (e.g. a group consumer) whose output lines are collected as they come. Dispose kills it.</summary>
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

    public static CliProcess Start(params string[] args)
    {
        var process = new Process { StartInfo = BrokerProcess.Cli(args) };
        var cli = new CliProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) cli.Lines.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) cli.Errors.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    /// <summary>SIGKILL, as a crash: no commit, no leave.</summary>
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
