using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Broker.Server.Membership;

namespace Broker.Server.Controller.Quorum;

/// <summary>
/// On a voter that is catching up (<see cref="MetadataQuorum.IsCatchingUp"/>): once a second, asks the other voters
/// that are cluster members what their logs hold (their <see cref="MetadataServerActor"/>, over Akka.Remote) and
/// applies <see cref="NewVoterRule"/>; in a new cluster, where no voter holds a log, the voter joins the voters. A
/// voter whose cluster exists is caught up by the controller over Raft instead, and joins by itself
/// (<see cref="MetadataQuorum"/>). Stops once the voter votes.
/// </summary>
public sealed class NewVoterActor : ReceiveActor, IWithTimers
{
    public const string Name = "new-voter";

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ReportEvery = TimeSpan.FromSeconds(15);

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly MetadataQuorum _quorum;
    private readonly int[] _otherVoters;
    private bool _asking;
    private string? _lastReported;
    private long _reportedAt;

    public NewVoterActor(MetadataQuorum quorum)
    {
        _quorum = quorum;
        _otherVoters = [.. quorum.VoterIds.Where(id => id != quorum.NodeId).Order()];
        Receive<Tick>(_ => OnTick());
        Receive<Answers>(OnAnswers);
        Receive<Joined>(_ => Context.Stop(Self));
        Receive<Status.Failure>(failure =>
        {
            _asking = false;
            _log.Warning("could not join the metadata quorum's voters yet: {0}; trying again", failure.Cause.Message);
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(MetadataQuorum quorum) => Akka.Actor.Props.Create(() => new NewVoterActor(quorum));

    protected override void PreStart() => Timers.StartPeriodicTimer("tick", Tick.Instance, Interval);

    private void OnTick()
    {
        if (!_quorum.IsCatchingUp)
        {
            Context.Stop(Self);
            return;
        }
        if (_asking) return;
        var servers = new List<ActorSelection>();
        foreach (var member in _cluster.State.Members)
        {
            if (member.Status is MemberStatus.Down or MemberStatus.Removed or MemberStatus.Exiting) continue;
            if (Array.IndexOf(_otherVoters, NodeIdentity.Of(member)) >= 0)
                servers.Add(Context.ActorSelection(new RootActorPath(member.Address) / "user" / MetadataServerActor.Name));
        }
        _asking = true;
        AskAllAsync(servers).PipeTo(Self);
    }

    private static async Task<Answers> AskAllAsync(List<ActorSelection> servers)
    {
        var answers = await Task.WhenAll(servers.Select(AskAsync)).ConfigureAwait(false);
        return new Answers(answers.OfType<VoterLogState>().ToArray());
    }

    private static async Task<VoterLogState?> AskAsync(ActorSelection server)
    {
        try
        {
            return await server.Ask<VoterLogState>(VoterLogAsk.Instance, AskTimeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }

    private void OnAnswers(Answers answers)
    {
        var byVoter = new Dictionary<int, VoterLogState>();
        foreach (var answer in answers.States) byVoter[answer.NodeId] = answer;
        var decision = NewVoterRule.Decide(_quorum.LastLogIndex, _otherVoters, byVoter);
        if (decision is JoinNewCluster join)
        {
            var quorum = _quorum;
            JoinAsync(quorum, join.Why).PipeTo(Self);
            return;
        }
        _asking = false;
        var now = Environment.TickCount64;
        if (decision.Why != _lastReported || now - _reportedAt > ReportEvery.TotalMilliseconds)
        {
            _log.Info("voter {0} does not vote yet: {1}", _quorum.NodeId, decision.Why);
            _lastReported = decision.Why;
            _reportedAt = now;
        }
    }

    private static async Task<Joined> JoinAsync(MetadataQuorum quorum, string why)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await quorum.JoinVotersAsync(why, timeout.Token).ConfigureAwait(false);
        return Joined.Instance;
    }

    private sealed record Answers(VoterLogState[] States);

    private sealed class Joined
    {
        public static readonly Joined Instance = new();
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
