namespace Broker.Server.Controller;

/// <summary>
/// The active controller's view of which brokers are alive (Kafka's <c>BrokerHeartbeatManager</c>, KIP-631): soft
/// state, never in the log. A broker heartbeats with its broker epoch and how far it has applied the metadata log;
/// the controller answers with the record to propose, if any: <see cref="UnfenceBroker"/> once a fenced broker has
/// caught up with its own registration, <see cref="FenceBroker"/> for a broker silent longer than the session
/// timeout. A new controller starts every broker's session afresh (<see cref="Reset"/>), so a leadership change
/// never fences a live broker by itself. Akka.Cluster's failure detector may hint that a broker is gone; the
/// session timeout is what decides.
/// </summary>
public sealed class BrokerSessions(TimeProvider clock, TimeSpan sessionTimeout)
{
    private readonly Dictionary<int, (long BrokerEpoch, long LastContact)> _sessions = [];

    /// <summary>This voter just became the controller: every registered broker gets a full session from now.</summary>
    public void Reset(MetadataImage image)
    {
        _sessions.Clear();
        var now = clock.GetTimestamp();
        foreach (var b in image.Brokers.Values) _sessions[b.BrokerId] = (b.BrokerEpoch, now);
    }

    /// <summary>A broker's heartbeat: the record to propose for it (null when none), or a refusal for a stale registration.</summary>
    public HeartbeatOutcome Heartbeat(MetadataImage image, int brokerId, long brokerEpoch, long appliedIndex)
    {
        if (!image.Brokers.TryGetValue(brokerId, out var broker))
            return new HeartbeatOutcome(new Refused(MetadataError.UnknownBroker, $"broker {brokerId} is not registered"), null);
        if (broker.BrokerEpoch != brokerEpoch)
            return new HeartbeatOutcome(new Refused(MetadataError.StaleBrokerEpoch, $"broker {brokerId} is registered with epoch {broker.BrokerEpoch}, not {brokerEpoch}"), null);
        _sessions[brokerId] = (brokerEpoch, clock.GetTimestamp());
        var unfence = broker.Fenced && appliedIndex >= broker.RegisteredAt ? new UnfenceBroker(brokerId, brokerEpoch) : null;
        return new HeartbeatOutcome(null, unfence);
    }

    /// <summary>The fence records due now: unfenced brokers whose session expired (a broker never heard from counts from <see cref="Reset"/>).</summary>
    public IReadOnlyList<FenceBroker> Expired(MetadataImage image)
    {
        var now = clock.GetTimestamp();
        var due = new List<FenceBroker>();
        foreach (var b in image.Brokers.Values)
        {
            if (b.Fenced) continue;
            if (!_sessions.TryGetValue(b.BrokerId, out var session) || session.BrokerEpoch != b.BrokerEpoch)
            {
                _sessions[b.BrokerId] = (b.BrokerEpoch, now); // registered since the last reset: its session starts now
                continue;
            }
            if (clock.GetElapsedTime(session.LastContact, now) > sessionTimeout) due.Add(new FenceBroker(b.BrokerId, b.BrokerEpoch));
        }
        return due;
    }
}

/// <summary>What a heartbeat led to: a refusal, or the record the controller should propose (null: nothing to change).</summary>
public sealed record HeartbeatOutcome(Refused? Refusal, MetadataRecord? ToPropose);
