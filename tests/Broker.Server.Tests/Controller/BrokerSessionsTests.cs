using Broker.Server.Controller;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Broker.Server.Tests.Controller;

/// <summary>Session timeouts decide fencing; catching up with its own registration unfences; a fake clock, no waiting.</summary>
public sealed class BrokerSessionsTests
{
    private static readonly TimeSpan Session = TimeSpan.FromSeconds(9);
    private readonly FakeTimeProvider _clock = new();
    private readonly MetadataStateMachine _sm = new();
    private long _index;

    private long Register(int id) => ((BrokerRegistered)_sm.Apply(new RegisterBroker(id, Guid.NewGuid(), -1), ++_index)).BrokerEpoch;

    [Fact]
    public void A_fenced_broker_is_unfenced_only_once_it_applied_its_own_registration()
    {
        var sessions = new BrokerSessions(_clock, Session);
        var epoch = Register(1);
        var registeredAt = _sm.Image.Brokers[1].RegisteredAt;
        Assert.Equal(_index, registeredAt);
        Assert.Null(sessions.Heartbeat(_sm.Image, 1, epoch, appliedIndex: registeredAt - 1).ToPropose);
        var unfence = Assert.IsType<UnfenceBroker>(sessions.Heartbeat(_sm.Image, 1, epoch, appliedIndex: registeredAt).ToPropose);
        Assert.IsType<BrokerFenceChanged>(_sm.Apply(unfence, ++_index));
        Assert.Null(sessions.Heartbeat(_sm.Image, 1, epoch, _index).ToPropose);
    }

    [Fact]
    public void A_silent_broker_is_fenced_after_the_session_timeout_and_a_heartbeating_one_never()
    {
        var sessions = new BrokerSessions(_clock, Session);
        var e1 = Register(1);
        var e2 = Register(2);
        _sm.Apply(new UnfenceBroker(1, e1), ++_index);
        _sm.Apply(new UnfenceBroker(2, e2), ++_index);
        sessions.Reset(_sm.Image);
        for (var i = 0; i < 5; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(2));
            sessions.Heartbeat(_sm.Image, 1, e1, _index);
            Assert.DoesNotContain(sessions.Expired(_sm.Image), f => f.BrokerId == 1);
        }
        var due = Assert.Single(sessions.Expired(_sm.Image));
        Assert.Equal(new FenceBroker(2, e2), due);
    }

    [Fact]
    public void A_new_controller_gives_every_broker_a_full_session_and_stale_epochs_are_refused()
    {
        var sessions = new BrokerSessions(_clock, Session);
        var e1 = Register(1);
        _sm.Apply(new UnfenceBroker(1, e1), ++_index);
        _clock.Advance(TimeSpan.FromMinutes(5)); // the broker was silent while another voter led
        sessions.Reset(_sm.Image);
        Assert.Empty(sessions.Expired(_sm.Image));
        _clock.Advance(Session + TimeSpan.FromMilliseconds(1));
        Assert.Single(sessions.Expired(_sm.Image));
        Assert.Equal(MetadataError.StaleBrokerEpoch, sessions.Heartbeat(_sm.Image, 1, e1 - 1, _index).Refusal!.Error);
        Assert.Equal(MetadataError.UnknownBroker, sessions.Heartbeat(_sm.Image, 7, 1, _index).Refusal!.Error);
    }
}
