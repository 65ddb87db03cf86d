using System.Diagnostics;

namespace Broker.IntegrationTests.Kafka;

/// <summary>
/// The Node.js Kafka clients in Kafka/Node (package.json pins them), each driven by a script there that prints a
/// JSON summary on its last stdout line. `npm ci` in that folder installs them (.ci/run does it); Node 20+.
/// </summary>
internal static class NodeClients
{
    public static string Folder { get; } = FindFolder();

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string script, TimeSpan timeout, params string[] args)
    {
        if (!Directory.Exists(Path.Combine(Folder, "node_modules")))
            throw new InvalidOperationException($"the Node Kafka clients are not installed: run `npm ci` in {Folder} (.ci/run does it)");
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = Folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(script);
        foreach (var a in args) info.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("node is not installed (Node.js 20 or later)", ex);
        }
        return await CliProcess.RunToExitAsync(process, stdin: null, timeout, $"node {script} {string.Join(' ', args)}");
    }

    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Broker.sln")))
                return Path.Combine(dir.FullName, "tests", "Broker.IntegrationTests", "Kafka", "Node");
        }
        throw new DirectoryNotFoundException("could not find Broker.sln above " + AppContext.BaseDirectory);
    }
}
