// A pending Flush: done when every batch created before it has been reported.
namespace Broker.Client.Producing;

internal sealed class FlushWaiter(long before, int pending)
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Batches with a lower sequence number count; later ones do not.</summary>
    public long Before { get; } = before;

    public int Pending { get; set; } = pending;

    public Task Task => _done.Task;

    public void Complete() => _done.TrySetResult();
}
