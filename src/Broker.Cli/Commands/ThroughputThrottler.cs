using System.Diagnostics;

namespace Broker.Cli.Commands;

/// <summary>
/// Paces a sender to a target rate, as kafka-producer-perf-test's ThroughputThrottler does: after each
/// record it compares what was sent with what the rate allows so far, and sleeps off the deficit once it
/// adds up to a couple of milliseconds (shorter sleeps are not precise). A rate of 0 or less never waits.
/// </summary>
public sealed class ThroughputThrottler(double recordsPerSecond)
{
    private const long MinSleepTicks = 2 * TimeSpan.TicksPerMillisecond;
    private readonly long _start = Stopwatch.GetTimestamp();
    private long _deficitTicks;

    public void AfterSend(long sentSoFar)
    {
        if (recordsPerSecond <= 0) return;
        var elapsed = Stopwatch.GetElapsedTime(_start);
        var due = TimeSpan.FromSeconds(sentSoFar / recordsPerSecond);
        if (due <= elapsed) return;
        _deficitTicks += (due - elapsed).Ticks;
        if (_deficitTicks < MinSleepTicks) return;
        Thread.Sleep(TimeSpan.FromTicks(_deficitTicks));
        _deficitTicks = 0;
    }
}
