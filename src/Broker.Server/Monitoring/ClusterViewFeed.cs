namespace Broker.Server.Monitoring;

/// <summary>
/// What the web page and /api show: the newest snapshot, the recent event lines, and a version that grows with each.
/// <see cref="Ready"/>: this node is an Up member and every partition it leads answered with its offsets (recovered).
/// </summary>
public sealed record ClusterView(long Version, int SelfId, bool Ready, ClusterSnapshot Snapshot, IReadOnlyList<ClusterChange> Events)
{
    public static readonly ClusterView Empty = new(0, -1, false, ClusterSnapshot.Empty, []);
}

/// <summary>
/// Hands the watcher actor's newest <see cref="ClusterView"/> to HTTP requests without asking the actor: one writer
/// (the actor) swaps an immutable view in, any number of readers (page loads, server-sent-event streams) read it or
/// wait for the next one. Thread-safe.
/// </summary>
public sealed class ClusterViewFeed
{
    private readonly object _sync = new();
    private ClusterView _current = ClusterView.Empty;
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ClusterView Current
    {
        get
        {
            lock (_sync) return _current;
        }
    }

    public void Publish(ClusterView view)
    {
        TaskCompletionSource done;
        lock (_sync)
        {
            _current = view;
            done = _next;
            _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        done.TrySetResult();
    }

    /// <summary>The first view newer than <paramref name="version"/>: at once if there is one, else when it is published.</summary>
    public async Task<ClusterView> NextAsync(long version, CancellationToken ct)
    {
        while (true)
        {
            Task wait;
            lock (_sync)
            {
                if (_current.Version > version) return _current;
                wait = _next.Task;
            }
            await wait.WaitAsync(ct).ConfigureAwait(false);
        }
    }
}
