using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Broker.Server.Controller.Quorum;

/// <summary>
/// Who is told of every applied metadata change, in log order (a voter's <see cref="MetadataLog"/> and an observer's
/// <see cref="MetadataObserver"/> both publish here). A subscriber that throws is recorded, not allowed to stop the
/// log from being applied.
/// </summary>
internal sealed class MetadataSubscribers
{
    private readonly Lock _lock = new();
    private ImmutableArray<Action<MetadataChange>> _subscribers = [];

    /// <summary>Exceptions thrown by subscribers, kept for diagnosis (and tests) instead of breaking the applier.</summary>
    public ConcurrentQueue<Exception> Failures { get; } = new();

    public IDisposable Add(Action<MetadataChange> onChange)
    {
        lock (_lock) _subscribers = _subscribers.Add(onChange);
        return new Unsubscriber(this, onChange);
    }

    public void Publish(MetadataChange change)
    {
        foreach (var subscriber in _subscribers)
        {
            try
            {
                subscriber(change);
            }
            catch (Exception ex)
            {
                // A subscriber's bug must not stop this node from applying the log (every later entry would stall).
                Failures.Enqueue(ex);
            }
        }
    }

    private sealed class Unsubscriber(MetadataSubscribers owner, Action<MetadataChange> onChange) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._lock) owner._subscribers = owner._subscribers.Remove(onChange);
        }
    }
}
