using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Broker.IntegrationTests.Watching;

/// <summary>Reads a node's /metrics and checks it with Prometheus' own parser (`promtool check metrics`, Debian's `prometheus` package).</summary>
internal static partial class MonitorPage
{
    public const string Promtool = "/usr/bin/promtool";
    public const string Chromium = "/usr/bin/chromium";

    public static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public static Task<string> MetricsAsync(string httpBase) => Http.GetStringAsync($"{httpBase}/metrics");

    /// <summary>The value of the first sample named <paramref name="name"/> whose labels contain <paramref name="labels"/>; null when none.</summary>
    public static double? Sample(string metrics, string name, string labels = "")
    {
        foreach (Match m in SampleLine().Matches(metrics))
        {
            if (m.Groups["name"].Value != name || !m.Groups["labels"].Value.Contains(labels, StringComparison.Ordinal)) continue;
            return double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return null;
    }

    /// <summary>promtool's verdict: exit code and what it printed (it reads the exposition from stdin).</summary>
    public static async Task<(int ExitCode, string Output)> CheckAsync(string metrics)
    {
        var info = new ProcessStartInfo(Promtool, "check metrics") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(metrics);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)$", RegexOptions.Multiline)]
    private static partial Regex SampleLine();
}
