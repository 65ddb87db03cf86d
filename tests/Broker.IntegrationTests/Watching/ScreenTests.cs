using Broker.Cli.Watching;
using Xunit;

namespace Broker.IntegrationTests.Watching;

/// <summary>How --watch writes: escape codes only on a terminal, colour only without NO_COLOR, changed cells highlighted.</summary>
public sealed class ScreenTests
{
    private static (Screen Screen, StringWriter Out) Make(ScreenMode mode, bool color)
    {
        var output = new StringWriter();
        return (new Screen(mode, color, output), output);
    }

    [Fact]
    public void Plain_frames_carry_no_escape_codes_even_with_changes_and_colours()
    {
        var (screen, output) = Make(ScreenMode.Plain, color: true);
        var table = new FrameTable("ID", "STATE");
        table.Add("1", ["1", "Up"], [null, "32"]);
        var first = table.Cells();
        var next = new FrameTable("ID", "STATE");
        next.Add("1", ["1", "Down"], [null, "31"]);
        screen.Draw([.. next.Render(screen, first)]);
        screen.Dispose();
        Assert.DoesNotContain('\u001b', output.ToString());
        Assert.Contains("1   Down", output.ToString());
    }

    [Fact]
    public void Terminal_frames_redraw_in_place_and_highlight_only_changed_cells()
    {
        var (screen, output) = Make(ScreenMode.Terminal, color: true);
        var before = new FrameTable("ID", "STATE", "LEADS");
        before.Add("1", ["1", "Up", "3"]);
        var now = new FrameTable("ID", "STATE", "LEADS");
        now.Add("1", ["1", "Unreachable", "3"]);
        var lines = now.Render(screen, before.Cells()).ToList();
        Assert.Contains("\u001b[1;7mUnreachable", lines[1]);
        Assert.DoesNotContain("\u001b[1;7m3", lines[1]);
        screen.Draw(lines);
        var text = output.ToString();
        Assert.Contains("\u001b[H", text); // cursor home: drawn over the last frame
        Assert.DoesNotContain("\u001b[2J", text); // never cleared first (that is what flickers)
        screen.Dispose();
        Assert.EndsWith("\u001b[?1049l" + string.Join("", lines.Select(l => l + Environment.NewLine)), output.ToString()); // last frame stays visible
    }

    [Fact]
    public void No_color_keeps_the_text_plain_but_still_redraws_in_place()
    {
        var (screen, output) = Make(ScreenMode.Terminal, color: false);
        Assert.Equal("Down", screen.Paint("Down", "31"));
        screen.Draw(["x"]);
        Assert.Contains("\u001b[H", output.ToString());
    }

    [Theory]
    [InlineData("1s", 1000)]
    [InlineData("500ms", 500)]
    [InlineData("2", 2000)]
    [InlineData("1.5s", 1500)]
    public void Interval_reads_durations(string text, int ms) => Assert.Equal(TimeSpan.FromMilliseconds(ms), WatchLoop.ParseInterval(text));

    [Theory]
    [InlineData("soon")]
    [InlineData("10ms")]
    public void Interval_refuses_what_is_not_a_usable_duration(string text) => Assert.Throws<ArgumentException>(() => WatchLoop.ParseInterval(text));
}
