using System.Diagnostics;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Broker.IntegrationTests.Watching;

/// <summary>
/// `broker groups describe G --watch --output json` while consumers join and leave: frames show members, their
/// partitions, lag per partition and total, and rebalances as event lines. And `cluster status --watch` in a real
/// terminal (tmux): drawn in place, one frame on screen, not scrolling.
/// </summary>
public sealed class GroupWatchTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "billed";
    private const string Group = "billing";
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "broker-it", Guid.NewGuid().ToString("N"));
    private BrokerProcess _node = null!;

    public async Task InitializeAsync() => _node = await BrokerProcess.StartNodeAsync(_dataDir);

    public Task DisposeAsync()
    {
        _node.Dispose();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private CliProcess Member() => CliProcess.Start("consume", Topic, "--group", Group, "--from-beginning", "--session-timeout-ms", "3000", "--bootstrap", _node.Bootstrap);

    private static List<JsonElement> Frames(CliProcess watch) => watch.Lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();

    [Fact]
    public async Task Group_watch_shows_members_lag_and_rebalances_as_they_happen()
    {
        var timeout = TimeSpan.FromSeconds(60);
        var created = await CliProcess.RunAsync(null, timeout, "topics", "create", Topic, "--partitions", "4", "--bootstrap", _node.Bootstrap);
        Assert.True(created.ExitCode == 0, created.Stderr);
        var lines = string.Concat(Enumerable.Range(0, 400).Select(i => $"k{i}:v{i}\n"));
        Assert.Equal(0, (await CliProcess.RunAsync(lines, timeout, "produce", Topic, "--key-separator", ":", "--bootstrap", _node.Bootstrap)).ExitCode);
        // A commit before anyone consumes: the group exists with lag 400, so the watch has something to show from the start.
        Assert.Equal(0, (await CliProcess.RunAsync(null, timeout, "groups", "reset-offsets", Group, "--topic", Topic, "--to-earliest", "--bootstrap", _node.Bootstrap)).ExitCode);

        using var watch = CliProcess.Start("groups", "describe", Group, "--watch", "--output", "json", "--interval", "500ms", "--bootstrap", _node.Bootstrap);
        await ThreeNodeClusterless.Eventually(() => Frames(watch).Any(f => f.GetProperty("totalLag").GetInt64() == 400), timeout, "a frame with total lag 400 and no member");

        using var first = Member();
        await ThreeNodeClusterless.Eventually(() => Frames(watch).Any(f => f.GetProperty("group").GetProperty("members").GetArrayLength() == 1 && f.GetProperty("totalLag").GetInt64() == 0),
            timeout, "a frame with one member that has consumed everything (lag 0)");
        using (var second = Member())
        {
            await ThreeNodeClusterless.Eventually(() => Frames(watch).Any(f =>
                f.GetProperty("group").GetProperty("members").GetArrayLength() == 2
                && f.GetProperty("group").GetProperty("members").EnumerateArray().All(m => m.GetProperty("assignment").GetArrayLength() == 2)),
                timeout, "a frame with two members owning two partitions each");
        }
        var events = Frames(watch).SelectMany(f => f.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("text").GetString()!)).ToList();
        output.WriteLine(string.Join("\n", events));
        Assert.Contains(events, e => e.StartsWith($"group {Group} rebalanced: generation ", StringComparison.Ordinal) && e.Contains(", 2 members", StringComparison.Ordinal));
        var partitions = Frames(watch).Last().GetProperty("group").GetProperty("partitions");
        Assert.Equal(4, partitions.GetArrayLength());
    }

    [Fact]
    public async Task Cluster_watch_in_a_terminal_redraws_in_place()
    {
        if (!File.Exists("/usr/bin/tmux"))
        {
            output.WriteLine("tmux not installed: the terminal mode was not checked in a real terminal");
            return;
        }
        var session = "broker-watch-" + Guid.NewGuid().ToString("N")[..8];
        var command = $"TERM=xterm-256color dotnet {CliProcess.BrokerDll} cluster status --watch --interval 300ms --bootstrap {_node.Bootstrap}";
        Tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "40", command);
        try
        {
            await ThreeNodeClusterless.Eventually(() => Tmux("capture-pane", "-p", "-t", session).Contains("ID ", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "a frame on the screen");
            Assert.Equal(0, (await CliProcess.RunAsync(null, TimeSpan.FromSeconds(60), "topics", "create", "shown", "--partitions", "2", "--bootstrap", _node.Bootstrap)).ExitCode);
            await ThreeNodeClusterless.Eventually(() => Tmux("capture-pane", "-p", "-t", session).Contains("topic shown created (2 partitions)", StringComparison.Ordinal),
                TimeSpan.FromSeconds(30), "the event line on the screen");
            var screen = Tmux("capture-pane", "-p", "-t", session);
            output.WriteLine(screen);
            // Many refreshes later still one frame: drawn over itself, not appended.
            Assert.Equal(1, screen.Split('\n').Count(l => l.StartsWith("ID ", StringComparison.Ordinal)));
            Assert.Equal(1, screen.Split('\n').Count(l => l.StartsWith("shown/1 ", StringComparison.Ordinal)));
            Assert.Equal("0", Tmux("display-message", "-p", "-t", session, "#{history_size}").Trim()); // nothing scrolled off the screen
        }
        finally
        {
            Tmux("kill-session", "-t", session);
        }
    }

    private static string Tmux(params string[] args)
    {
        var info = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit(10_000);
        return text;
    }

    /// <summary>Polling without a cluster: the shared helper, for plain conditions.</summary>
    private static class ThreeNodeClusterless
    {
        public static Task Eventually(Func<bool> condition, TimeSpan timeout, string what) =>
            global::Broker.Tests.Eventually.TrueAsync(() => Task.FromResult(condition()), timeout, what);
    }
}
