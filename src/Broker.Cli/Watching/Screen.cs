namespace Broker.Cli.Watching;

/// <summary>How a --watch command writes its frames.</summary>
public enum ScreenMode
{
    /// <summary>A terminal: each frame redraws the last in place (alternate screen, cursor home, erase to end of line).</summary>
    Terminal,
    /// <summary>A pipe, a file or TERM=dumb: frames one after another, no escape codes at all.</summary>
    Plain,
    /// <summary>--output json: one JSON document per line per refresh.</summary>
    Json,
}

/// <summary>
/// Where frames go. In a terminal a frame is drawn over the previous one line by line (erasing each line's rest
/// and everything below the last), never clearing the screen first: clearing then drawing is what flickers.
/// Colour only in a terminal and only without NO_COLOR (https://no-color.org).
/// </summary>
public sealed class Screen : IDisposable
{
    private const string Esc = "\u001b[";
    private readonly TextWriter _out;
    private bool _entered;
    private IReadOnlyList<string> _last = [];

    public Screen(ScreenMode mode, bool color, TextWriter output)
    {
        Mode = mode;
        Color = color && mode == ScreenMode.Terminal;
        _out = output;
    }

    public ScreenMode Mode { get; }
    public bool Color { get; }

    /// <summary>The mode and colour for this process: --output json wins, then whether stdout is a capable terminal.</summary>
    public static Screen ForConsole(bool json)
    {
        var dumb = Environment.GetEnvironmentVariable("TERM") is null or "" or "dumb";
        var mode = json ? ScreenMode.Json : Console.IsOutputRedirected || dumb ? ScreenMode.Plain : ScreenMode.Terminal;
        var color = Environment.GetEnvironmentVariable("NO_COLOR") is not { Length: > 0 };
        return new Screen(mode, color, Console.Out);
    }

    /// <summary>Text in a colour (ANSI SGR code, e.g. "31" red) when colour is on; as it is otherwise.</summary>
    public string Paint(string text, string sgr) => Color && text.Length > 0 ? $"{Esc}{sgr}m{text}{Esc}0m" : text;

    public void Draw(IReadOnlyList<string> lines)
    {
        if (Mode != ScreenMode.Terminal)
        {
            foreach (var line in lines) _out.WriteLine(line);
            if (Mode == ScreenMode.Plain) _out.WriteLine();
            _out.Flush();
            return;
        }
        _last = lines;
        var frame = new System.Text.StringBuilder();
        if (!_entered)
        {
            frame.Append(Esc).Append("?1049h").Append(Esc).Append("?25l"); // alternate screen, hide the cursor
            _entered = true;
        }
        frame.Append(Esc).Append('H');
        var height = SafeHeight();
        for (var i = 0; i < lines.Count && i < height; i++)
            frame.Append(lines[i]).Append(Esc).Append('K').Append('\n');
        frame.Append(Esc).Append('J');
        _out.Write(frame.ToString()); // one write per frame: the terminal never shows half of one
        _out.Flush();
    }

    private static int SafeHeight()
    {
        try
        {
            return Console.WindowHeight > 1 ? Console.WindowHeight - 1 : int.MaxValue;
        }
        catch (IOException)
        {
            return int.MaxValue;
        }
    }

    /// <summary>Leaves the alternate screen with the last frame printed once more, so it stays visible after Ctrl+C.</summary>
    public void Dispose()
    {
        if (!_entered) return;
        _out.Write($"{Esc}?25h{Esc}?1049l");
        foreach (var line in _last) _out.WriteLine(line);
        _out.Flush();
    }
}
