using System.Globalization;
using System.CommandLine;
using System.Text.Json;
using Broker.Client;

namespace Broker.Cli;

/// <summary>Options every client command shares, and output helpers.</summary>
public static class CommonOptions
{
    public static Option<string> Bootstrap() => new("--bootstrap")
    {
        Description = "Node address(es) to connect to, host:port[,host:port] (env BROKER_BOOTSTRAP)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("BROKER_BOOTSTRAP") is { Length: > 0 } env ? env : "127.0.0.1:9190",
    };

    public static Option<string> Output()
    {
        var option = new Option<string>("--output", "-o") { Description = "Output format: text or json", DefaultValueFactory = _ => "text" };
        option.AcceptOnlyFromAmong("text", "json");
        return option;
    }

    public static Option<bool> Watch() => new("--watch", "-w") { Description = "Keep refreshing in place until Ctrl+C (plain frames when stdout is not a terminal; NO_COLOR respected)" };

    public static Option<string> Interval() => new("--interval") { Description = "How often --watch refreshes: 1s, 500ms, 2m", DefaultValueFactory = _ => "1s" };

    /// <summary>
    /// A client for --watch: a short request timeout, so a refresh that asked a node that just died gives up in
    /// seconds and the next one asks the next bootstrap address (the one-shot commands wait longer for a slow node).
    /// </summary>
    public static ClientConfig WatchClient(string bootstrap) => new() { BootstrapServers = bootstrap, RequestTimeout = TimeSpan.FromSeconds(5), ConnectTimeout = TimeSpan.FromSeconds(2) };

    public static ClientConfig Client(string bootstrap) => new() { BootstrapServers = bootstrap, RequestTimeout = TimeSpan.FromSeconds(15) };

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static void WriteJson(object value) => Console.WriteLine(JsonSerializer.Serialize(value, Json));

    /// <summary>A number as a table cell: invariant culture, so scripts parse the same output everywhere.</summary>
    public static string Cell(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Prints rows as aligned columns under a header.</summary>
    public static void WriteTable(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = new List<IReadOnlyList<string>> { header };
        all.AddRange(rows);
        var widths = new int[header.Count];
        foreach (var row in all)
            for (var i = 0; i < row.Count; i++) widths[i] = Math.Max(widths[i], row[i].Length);
        foreach (var row in all)
            Console.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Count - 1 ? cell : cell.PadRight(widths[i]))));
    }
}
