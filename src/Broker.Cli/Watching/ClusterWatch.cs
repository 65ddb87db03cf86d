using System.Globalization;
using System.Text.Json;
using Broker.Client;
using Broker.Server.Monitoring;

namespace Broker.Cli.Watching;

/// <summary>
/// `broker cluster status --watch`: every interval a snapshot of nodes and partitions (the same Metadata answer
/// `topics describe` uses), the event lines since the last one (the node's own <see cref="ClusterEventLog"/> rules),
/// and a frame with what changed highlighted.
/// </summary>
public sealed class ClusterWatch(AdminClient admin, Screen screen, TimeSpan interval, TimeProvider clock)
{
    private const int EventLines = 12;
    private readonly ClusterEventLog _events = new(clock, EventLines);
    private Dictionary<string, string[]>? _lastNodes;
    private Dictionary<string, string[]>? _lastPartitions;
    private List<string> _lastFrame = [];

    public async Task<ClusterSnapshot> FetchAsync(CancellationToken ct)
    {
        var metadata = await admin.GetMetadataAsync(null, ct);
        return SnapshotBuilder.Build(metadata, [], clock.GetUtcNow());
    }

    public void Show(ClusterSnapshot snapshot)
    {
        var fresh = _events.Observe(snapshot);
        if (screen.Mode == ScreenMode.Json)
        {
            var doc = new { at = snapshot.At, nodes = snapshot.Nodes, partitions = snapshot.Partitions, underReplicated = snapshot.UnderReplicatedCount, offline = snapshot.OfflineCount, events = fresh };
            screen.Draw([JsonSerializer.Serialize(doc, WatchLoop.Json)]);
            return;
        }
        screen.Draw(Frame(snapshot, screen.Mode == ScreenMode.Plain ? fresh : _events.Recent));
    }

    public void Failed(Exception ex)
    {
        var message = $"{clock.GetLocalNow():HH:mm:ss} no answer ({ex.Message}); trying again";
        if (screen.Mode != ScreenMode.Terminal)
        {
            Console.Error.WriteLine(message);
            return;
        }
        screen.Draw([screen.Paint(message, "31"), "", .. _lastFrame]);
    }

    private List<string> Frame(ClusterSnapshot s, IReadOnlyList<ClusterChange> events)
    {
        var up = s.Nodes.Count(n => n.IsUp);
        var lines = new List<string>
        {
            $"{s.At.ToLocalTime():HH:mm:ss}  nodes {s.Nodes.Count} ({up} up)  partitions {s.Partitions.Count}  " +
            $"under-replicated {screen.Paint(Cell(s.UnderReplicatedCount), s.UnderReplicatedCount > 0 ? "33" : "32")}  " +
            $"offline {screen.Paint(Cell(s.OfflineCount), s.OfflineCount > 0 ? "31" : "32")}  (every {interval.TotalSeconds:0.###}s; Ctrl+C quits)",
            "",
        };
        var nodes = new FrameTable("ID", "ADDRESS", "ROLES", "STATE", "LEADS");
        foreach (var n in s.Nodes)
        {
            var leads = s.Partitions.Count(p => p.Leader == n.Id);
            nodes.Add(Cell(n.Id), [Cell(n.Id), n.Address.Length > 0 ? n.Address : "-", string.Join(",", n.Roles), n.State, Cell(leads)],
                [null, null, null, n.IsUp ? "32" : "31", null]);
        }
        lines.AddRange(nodes.Render(screen, _lastNodes));
        _lastNodes = nodes.Cells();
        if (s.Partitions.Count > 0)
        {
            lines.Add("");
            var parts = new FrameTable("PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "OFFLINE", "HIGH-WATERMARK", "UNDER-REPLICATED");
            foreach (var p in s.Partitions)
            {
                parts.Add(p.Name, [p.Name, p.Leader > 0 ? Cell(p.Leader) : "none", Cell(p.LeaderEpoch), string.Join(",", p.Replicas), string.Join(",", p.Isr),
                        p.OfflineReplicas.Count > 0 ? string.Join(",", p.OfflineReplicas) : "-", p.HighWatermark >= 0 ? Cell(p.HighWatermark) : "-", p.UnderReplicated ? "yes" : "no"],
                    [null, p.Offline ? "31" : null, null, null, null, p.OfflineReplicas.Count > 0 ? "31" : null, null, p.UnderReplicated ? "33" : null]);
            }
            lines.AddRange(parts.Render(screen, _lastPartitions));
            _lastPartitions = parts.Cells();
        }
        if (events.Count > 0 || screen.Mode == ScreenMode.Terminal)
        {
            lines.Add("");
            lines.Add("EVENTS");
            foreach (var e in events) lines.Add($"{e.At.ToLocalTime():HH:mm:ss}  {e.Text}");
        }
        _lastFrame = lines;
        return lines;
    }

    private static string Cell(long value) => value.ToString(CultureInfo.InvariantCulture);
}
