using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Remote;

namespace Broker.Server.Membership;

/// <summary>
/// Downs a member whose process is gone as soon as that is certain (<see cref="DeadProcessRule"/>): when the
/// connection to a member drops, it tries to connect to the member's port; refused twice, the member is downed at
/// once, and its partitions move in about a second instead of after failure detection and stable-after.
/// </summary>
public sealed class DeadProcessDetectorActor : ReceiveActor
{
    public const string Name = "dead-process-detector";

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<Address> _probing = new();

    public DeadProcessDetectorActor()
    {
        Receive<DisassociatedEvent>(e =>
        {
            if (MemberAt(e.RemoteAddress) is not null && _probing.Add(e.RemoteAddress)) Probe(e.RemoteAddress, 0);
        });
        Receive<Probed>(p =>
        {
            var member = MemberAt(p.Address);
            if (member is null || !p.Refused)
            {
                _probing.Remove(p.Address); // gone already, or something listens there: failure detection decides
                return;
            }
            if (p.Refusals < DeadProcessRule.RefusalsNeeded)
            {
                Probe(p.Address, p.Refusals);
                return;
            }
            _probing.Remove(p.Address);
            if (!DeadProcessRule.ShouldDown(member.Status, p.Refusals, LiveNodes.Of(Context.System).SeesMajority)) return;
            _log.Warning("node {0} ({1}) is gone: its connection dropped and its port refuses connections, so its process is not running; downing it now "
                + "instead of waiting for failure detection", NodeIdentity.Of(member), p.Address);
            _cluster.Down(p.Address);
        });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new DeadProcessDetectorActor());

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(DisassociatedEvent));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private Member? MemberAt(Address address) => address.Equals(_cluster.SelfAddress) ? null : LiveNodes.MemberAt(_cluster.State, address);

    private void Probe(Address address, int refusals)
    {
        var delay = refusals == 0 ? TimeSpan.Zero : DeadProcessRule.ProbePause;
        ConnectAsync(address, delay).PipeTo(Self, success: refused => new Probed(address, refused, refused ? refusals + 1 : refusals));
    }

    /// <summary>True when a connection to the address's port is refused; false when it is accepted or times out.</summary>
    private static async Task<bool> ConnectAsync(Address address, TimeSpan delay)
    {
        if (delay > TimeSpan.Zero) await Task.Delay(delay).ConfigureAwait(false);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await socket.ConnectAsync(address.Host!, address.Port!.Value, timeout.Token).ConfigureAwait(false);
            return false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private sealed record Probed(Address Address, bool Refused, int Refusals);
}
