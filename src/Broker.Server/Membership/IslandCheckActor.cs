using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Broker.Server.Controller.Quorum;

namespace Broker.Server.Membership;

/// <summary>
/// Hosts <see cref="IslandCheck"/> on a voter: every 2 s while this node is Up, asks the metadata quorum's controller
/// (its <see cref="MetadataServerActor"/>) whether it counts this incarnation as a member, passes a Raft read barrier
/// alongside, and downs this node (which then starts again in its process and rejoins) when the rule says it is on
/// an island.
/// </summary>
public sealed class IslandCheckActor : ReceiveActor, IWithTimers
{
    public const string Name = "island-check";

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(3);

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IslandCheck _check;
    private readonly MetadataQuorum _quorum;
    private bool _checking;

    public IslandCheckActor(IslandCheck check, MetadataQuorum quorum)
    {
        _check = check;
        _quorum = quorum;
        Receive<Tick>(_ => OnTick());
        Receive<Checked>(OnChecked);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IslandCheck check, MetadataQuorum quorum) => Akka.Actor.Props.Create(() => new IslandCheckActor(check, quorum));

    protected override void PreStart() => Timers.StartPeriodicTimer("tick", Tick.Instance, Interval);

    private void OnTick()
    {
        if (_checking) return;
        if (_cluster.SelfMember.Status != MemberStatus.Up || _quorum.ControllerId is not { } controller || controller == _quorum.NodeId)
        {
            _check.Observe(IslandCheck.Outcome.Inconclusive);
            return;
        }
        ICanTell? server = null;
        foreach (var member in _cluster.State.Members)
        {
            if (NodeIdentity.Of(member) == controller && member.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving)
                server = Context.ActorSelection(new RootActorPath(member.Address) / "user" / MetadataServerActor.Name);
        }
        var self = _cluster.SelfUniqueAddress;
        _checking = true;
        CheckAsync(server, new MembershipCheck(self.Address.ToString(), self.Uid), controller).PipeTo(Self);
    }

    private async Task<Checked> CheckAsync(ICanTell? server, MembershipCheck question, int controller)
    {
        var answer = server is ActorSelection selection ? AskAsync(selection, question) : Task.FromResult<MembershipChecked?>(null);
        var raftAlive = BarrierAsync();
        await Task.WhenAll(answer, raftAlive).ConfigureAwait(false);
        var outcome = answer.Result switch
        {
            { IsController: false } => IslandCheck.Outcome.Inconclusive, // leadership moved since: ask the new one next time
            { IsMember: true } => IslandCheck.Outcome.Member,
            { IsMember: false } => IslandCheck.Outcome.NotMember,
            null => raftAlive.Result ? IslandCheck.Outcome.Unanswered : IslandCheck.Outcome.Inconclusive,
        };
        return new Checked(outcome, controller, server is not null);
    }

    private static async Task<MembershipChecked?> AskAsync(ActorSelection server, MembershipCheck question)
    {
        try
        {
            return await server.Ask<MembershipChecked>(question, AskTimeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }

    private async Task<bool> BarrierAsync()
    {
        using var timeout = new CancellationTokenSource(AskTimeout);
        try
        {
            await _quorum.ReadAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void OnChecked(Checked c)
    {
        _checking = false;
        if (_check.Observe(c.Outcome) is not IslandCheck.Leave leave) return;
        var why = leave.Last == IslandCheck.Outcome.NotMember
            ? "it answers that this node is not a member of its cluster"
            : c.ControllerIsMember ? "it does not answer over Akka.Remote" : "it is not even a member of this node's cluster";
        _log.Warning("this node is on an island: for {0:0}s the metadata quorum's controller (node {1}) has been alive by Raft, but {2}; "
            + "downing this node so that it starts again as a new incarnation and joins the controller's cluster",
            leave.For.TotalSeconds, c.Controller, why);
        _cluster.Down(_cluster.SelfAddress);
    }

    private sealed record Checked(IslandCheck.Outcome Outcome, int Controller, bool ControllerIsMember);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
