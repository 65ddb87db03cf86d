using System.Diagnostics;

namespace Broker.IntegrationTests.Kafka;

/// <summary>
/// kcat (Debian's package: kcat 1.7.1 on librdkafka 2.0.2, an older librdkafka than Confluent.Kafka's) run to
/// completion with optional standard input. .ci/run installs it; elsewhere `apt-get install kcat`.
/// </summary>
internal static class Kcat
{
    public static Task<(int ExitCode, string Output, string Errors)> RunAsync(string? input, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo("kcat")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("kcat did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("kcat is not installed: apt-get install kcat (.ci/run installs it)", ex);
        }
        return CliProcess.RunToExitAsync(process, input, timeout, $"kcat {string.Join(' ', args)}");
    }
}
