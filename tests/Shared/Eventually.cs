// Waiting in tests for something that happens in the background, linked into each test project that needs it.
using Xunit;

namespace Broker.Tests;

/// <summary>Polls a condition until it holds or the time is up; the failure names what was awaited.</summary>
internal static class Eventually
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Blocks (spinning, then sleeping briefly) until <paramref name="condition"/> holds.</summary>
    public static void True(Func<bool> condition, TimeSpan timeout, string what) =>
        Assert.True(SpinWait.SpinUntil(condition, timeout), $"timed out after {timeout.TotalSeconds:0.#}s waiting until {what}");

    /// <summary>Asks <paramref name="condition"/> every 200 ms until it holds.</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out after {timeout.TotalSeconds:0.#}s waiting until {what}");
            await Task.Delay(PollInterval);
        }
    }
}
