namespace Broker.Cli.Watching;

/// <summary>
/// A table in a watch frame whose cells are compared with the previous frame's: a cell whose text changed (or a
/// row that is new) is highlighted, so the eye finds what moved. Rows are matched by key (a node id, a partition).
/// Widths are computed on the plain text and colour is added after padding, so escape codes never skew columns.
/// </summary>
public sealed class FrameTable(params string[] header)
{
    private const string Changed = "1;7"; // bold, reverse video: visible in any colour scheme
    private readonly List<(string Key, string[] Cells, string?[] Colors)> _rows = [];

    /// <summary>Adds a row; <paramref name="colors"/> gives a cell's own colour (red for Down), null for none.</summary>
    public void Add(string key, string[] cells, string?[]? colors = null) => _rows.Add((key, cells, colors ?? new string?[cells.Length]));

    /// <summary>This frame's cells by row key, to compare the next frame with.</summary>
    public Dictionary<string, string[]> Cells() => _rows.ToDictionary(r => r.Key, r => r.Cells, StringComparer.Ordinal);

    public IEnumerable<string> Render(Screen screen, IReadOnlyDictionary<string, string[]>? previous)
    {
        var widths = header.Select(h => h.Length).ToArray();
        foreach (var (_, cells, _) in _rows)
            for (var i = 0; i < cells.Length && i < widths.Length; i++) widths[i] = Math.Max(widths[i], cells[i].Length);
        yield return string.Join("  ", header.Select((h, i) => i == header.Length - 1 ? h : h.PadRight(widths[i]))).TrimEnd();
        foreach (var (key, cells, colors) in _rows)
        {
            string[]? before = null;
            var isNew = previous is not null && !previous.TryGetValue(key, out before);
            var parts = new string[cells.Length];
            for (var i = 0; i < cells.Length; i++)
            {
                var text = i == cells.Length - 1 ? cells[i] : cells[i].PadRight(widths[i]);
                var changed = isNew || (before is not null && (i >= before.Length || before[i] != cells[i]));
                parts[i] = changed ? screen.Paint(text, Changed) : colors[i] is { } c ? screen.Paint(text, c) : text;
            }
            yield return string.Join("  ", parts);
        }
    }
}
