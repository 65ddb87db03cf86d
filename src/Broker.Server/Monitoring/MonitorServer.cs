using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.Server.Monitoring;

/// <summary>
/// The node's small read-only web server (Kestrel, minimal APIs): the page (/, embedded HTML/CSS/JS), the same data as
/// JSON (/api/cluster, /api/events), live updates as server-sent events (/api/stream), Prometheus metrics (/metrics)
/// and health for orchestrators (/health/live, /health/ready). It only reads the <see cref="ClusterViewFeed"/> and the
/// metrics registry; it sends nothing to the cluster.
/// </summary>
public sealed class MonitorServer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly WebApplication _app;

    private MonitorServer(WebApplication app, string host, int port)
    {
        _app = app;
        Host = host;
        BoundPort = port;
    }

    public string Host { get; }
    public int BoundPort { get; }

    /// <summary>Starts the server; null (and why) when its port cannot be bound, so the node runs on without it, as the Kafka listener does.</summary>
    public static async Task<(MonitorServer? Server, string? Problem)> TryStartAsync(HttpSettings settings, ClusterViewFeed feed, BrokerMetrics metrics)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders(); // the node logs through Akka; Kestrel's per-request lines would only be noise
        builder.WebHost.ConfigureKestrel(k =>
        {
            if (IPAddress.TryParse(settings.Host, out var ip)) k.Listen(ip, settings.Port);
            else if (settings.Host == "localhost") k.ListenLocalhost(settings.Port);
            else k.ListenAnyIP(settings.Port);
        });
        var app = builder.Build();
        Map(app, feed, metrics);
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            return (null, $"the web page could not listen on {settings.Host}:{settings.Port} ({ex.Message}); set broker.http.port (--http-port) or --no-http");
        }
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        var port = address is not null && Uri.TryCreate(address, UriKind.Absolute, out var uri) ? uri.Port : settings.Port;
        return (new MonitorServer(app, settings.Host, port), null);
    }

    private static void Map(WebApplication app, ClusterViewFeed feed, BrokerMetrics metrics)
    {
        app.MapGet("/", () => Asset("index.html", "text/html; charset=utf-8"));
        app.MapGet("/app.js", () => Asset("app.js", "text/javascript; charset=utf-8"));
        app.MapGet("/app.css", () => Asset("app.css", "text/css; charset=utf-8"));
        app.MapGet("/api/cluster", () => Results.Text(JsonSerializer.Serialize(feed.Current, Json), "application/json"));
        app.MapGet("/api/events", () => Results.Text(JsonSerializer.Serialize(feed.Current.Events, Json), "application/json"));
        app.MapGet("/api/stream", (HttpContext http) => Stream(http, feed));
        app.MapGet("/health/live", () => Results.Text("live\n"));
        app.MapGet("/health/ready", () => feed.Current.Ready ? Results.Text("ready\n") : Results.Text("not ready: not an Up member yet, or a partition it leads has not recovered\n", statusCode: 503));
        app.MapGet("/metrics", async (HttpContext http) =>
        {
            if (!metrics.Enabled)
            {
                http.Response.StatusCode = 404;
                await http.Response.WriteAsync("metrics are off (broker.http.metrics = off)\n").ConfigureAwait(false);
                return;
            }
            http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.Registry.CollectAndExportAsTextAsync(http.Response.Body, http.RequestAborted).ConfigureAwait(false);
        });
    }

    /// <summary>Server-sent events: every new view as one <c>data:</c> line, so the page redraws without reloading.</summary>
    private static async Task Stream(HttpContext http, ClusterViewFeed feed)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        var ct = http.RequestAborted;
        long version = -1;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(ct);
                quiet.CancelAfter(TimeSpan.FromSeconds(15));
                ClusterView view;
                try
                {
                    view = await feed.NextAsync(version, quiet.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    await http.Response.WriteAsync(": keep-alive\n\n", ct).ConfigureAwait(false); // proxies drop silent streams
                    await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                    continue;
                }
                version = view.Version;
                await http.Response.WriteAsync("data: " + JsonSerializer.Serialize(view, Json) + "\n\n", ct).ConfigureAwait(false);
                await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // the browser went away
        }
    }

    private static IResult Asset(string name, string contentType)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Broker.Server.Web." + name);
        if (stream is null) return Results.NotFound();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Results.Text(reader.ReadToEnd(), contentType);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
