using System.Globalization;
using System.Text.Json;
using Broker.Client;
using Broker.Protocol;
using Broker.Server.Monitoring;

namespace Broker.Cli.Watching;

/// <summary>
/// `broker groups describe G --watch`: members and their partitions, committed offset, log end and lag per
/// partition, total lag, and the group's rebalances as event lines (the same <see cref="ClusterEventLog"/> rules).
/// </summary>
public sealed class GroupWatch(AdminClient admin, string groupId, Screen screen, TimeSpan interval, TimeProvider clock)
{
    private readonly ClusterEventLog _events = new(clock, 12);
    private Dictionary<string, string[]>? _lastMembers;
    private Dictionary<string, string[]>? _lastPartitions;
    private List<string> _lastFrame = [];

    public async Task<GroupView> FetchAsync(CancellationToken ct)
    {
        var described = await admin.DescribeGroupAsync(groupId, ct);
        var topics = described.Offsets.Select(o => o.Topic).Concat(described.Members.SelectMany(m => m.Assignment.Select(a => a.Topic))).Distinct(StringComparer.Ordinal).ToList();
        var logEnds = new Dictionary<(string, int), long>();
        if (topics.Count > 0)
        {
            foreach (var t in (await admin.GetMetadataAsync(topics, ct)).Topics)
            {
                if (t.Error != ErrorCode.None) continue;
                foreach (var p in t.Partitions) logEnds[(t.Name, p.Partition)] = p.LogEndOffset;
            }
        }
        return SnapshotBuilder.Group(described, logEnds);
    }

    public void Show(GroupView group)
    {
        var fresh = _events.Observe(new ClusterSnapshot(clock.GetUtcNow(), [], [], [group]));
        if (screen.Mode == ScreenMode.Json)
        {
            screen.Draw([JsonSerializer.Serialize(new { at = clock.GetUtcNow(), group, totalLag = group.TotalLag, events = fresh }, WatchLoop.Json)]);
            return;
        }
        var lines = new List<string>
        {
            $"{clock.GetLocalNow():HH:mm:ss}  group {group.GroupId}  state {group.State}  generation {group.Generation}  assignor {(group.Protocol.Length > 0 ? group.Protocol : "-")}  " +
            $"members {group.Members.Count}  total lag {screen.Paint(Cell(group.TotalLag), group.TotalLag > 0 ? "33" : "32")}  (every {interval.TotalSeconds:0.###}s; Ctrl+C quits)",
            "",
        };
        var members = new FrameTable("MEMBER", "CLIENT-ID", "PARTITIONS");
        foreach (var m in group.Members) members.Add(m.MemberId, [m.MemberId, m.ClientId, m.Assignment.Count > 0 ? string.Join(",", m.Assignment) : "-"]);
        lines.AddRange(members.Render(screen, _lastMembers));
        _lastMembers = members.Cells();
        lines.Add("");
        var parts = new FrameTable("PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "OWNER");
        foreach (var p in group.Partitions)
        {
            var name = $"{p.Topic}/{p.Partition}";
            parts.Add(name, [name, p.Committed is { } c ? Cell(c) : "-", p.LogEndOffset >= 0 ? Cell(p.LogEndOffset) : "-", p.Lag is { } lag ? Cell(lag) : "-", p.Owner ?? "-"],
                [null, null, null, p.Lag > 0 ? "33" : null, null]);
        }
        lines.AddRange(parts.Render(screen, _lastPartitions));
        _lastPartitions = parts.Cells();
        var events = screen.Mode == ScreenMode.Plain ? fresh : _events.Recent;
        if (events.Count > 0 || screen.Mode == ScreenMode.Terminal)
        {
            lines.Add("");
            lines.Add("EVENTS");
            foreach (var e in events) lines.Add($"{e.At.ToLocalTime():HH:mm:ss}  {e.Text}");
        }
        _lastFrame = lines;
        screen.Draw(lines);
    }

    public void Failed(Exception ex)
    {
        var message = $"{clock.GetLocalNow():HH:mm:ss} no answer ({ex.Message}); trying again";
        if (screen.Mode != ScreenMode.Terminal) Console.Error.WriteLine(message);
        else screen.Draw([screen.Paint(message, "31"), "", .. _lastFrame]);
    }

    private static string Cell(long value) => value.ToString(CultureInfo.InvariantCulture);
}
