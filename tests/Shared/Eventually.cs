// Waiting in tests for something that happens in the background, linked into each test project that needs it.
namespace Broker.Tests;

/// <summary>Polls a condition until it holds or the time is up; the failure names what was awaited.</summary>
internal static class Eventually
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Blocks (spinning, then sleeping briefly) until <paramref name="condition"/> holds.</summary>
    public static void True(Func<bool> condition, TimeSpan timeout, string what)
    {
        if (!SpinWait.SpinUntil(condition, timeout)) throw new TimeoutException($"not reached within {timeout}: {what}");
    }

    /// <summary>
    /// Asks <paramref name="condition"/> every 200 ms until it holds. An exception counts as "not yet" (a group that
    /// has no member yet, a cluster failing over); the last one is named if the time runs out.
    /// </summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception ex)
            {
                last = ex;
            }
            await Task.Delay(PollInterval);
        }
        throw new TimeoutException($"not reached within {timeout}: {what}" + (last is null ? "" : $" (last error: {last.Message})"));
    }
}
