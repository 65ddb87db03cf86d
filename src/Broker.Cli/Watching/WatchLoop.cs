using System.Text.Json;
using System.Text.Json.Serialization;

namespace Broker.Cli.Watching;

/// <summary>
/// The refresh loop every --watch command shares: fetch, show, wait for the next tick. A failed fetch (the node
/// asked died, the cluster is electing) is shown and the loop goes on: the client has already moved to the next
/// bootstrap address for the next attempt. Ctrl+C ends it with exit code 0.
/// </summary>
public static class WatchLoop
{
    /// <summary>Compact JSON, one document per line: what `jq` and line-oriented scripts read best.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static async Task<int> RunAsync<T>(TimeSpan interval, Func<CancellationToken, Task<T>> fetch, Action<T> show, Action<Exception> failed, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                T data;
                try
                {
                    data = await fetch(ct);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    failed(ex);
                    continue;
                }
                show(data);
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        return CliRunner.Ok;
    }

    /// <summary>--interval: "1s", "500ms", "2m", or plain seconds ("2").</summary>
    public static TimeSpan ParseInterval(string text)
    {
        static bool Number(string s, out double value) =>
            double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out value);
        var t = text.Trim();
        double n;
        var span = t.EndsWith("ms", StringComparison.Ordinal) && Number(t[..^2], out n) ? TimeSpan.FromMilliseconds(n)
            : t.EndsWith('s') && Number(t[..^1], out n) ? TimeSpan.FromSeconds(n)
            : t.EndsWith('m') && Number(t[..^1], out n) ? TimeSpan.FromMinutes(n)
            : Number(t, out n) ? TimeSpan.FromSeconds(n)
            : throw new ArgumentException($"--interval '{text}' is not a duration; write e.g. 1s, 500ms or 2m");
        if (span < TimeSpan.FromMilliseconds(100)) throw new ArgumentException($"--interval must be at least 100ms, got '{text}'");
        return span;
    }
}
