using Akka.Actor;
using Akka.Cluster.Sharding;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Groups;

namespace Broker.Server.Partitions;

/// <summary>
/// A partition's leadership, as a Cluster.Sharding entity: sharding (with <see cref="ReplicaAllocationStrategy"/>)
/// decides on which node it runs, and where it runs, this node's replica of the partition leads. The entity
/// holds no log: it asks the node's <see cref="ReplicaManagerActor"/> for the local replica (the one actor that
/// owns the partition's persistence id on this node, follower or leader), tells it to lead, and forwards the
/// partition's requests to it. So the hand-over between following and leading happens inside one actor, and two
/// writers of one persistence id on a node cannot exist by construction.
///
/// States: WaitingForReplica (requests stashed) -> Forwarding. On the hand-off message it tells the replica to
/// resign and stops; if the replica stops, so does the entity (the next request starts it again).
/// The entity of an <see cref="OffsetsTopic"/> partition also hosts that partition's group coordinators
/// (<see cref="GroupPartitionActor"/>, a child), so they run where the leader runs and stop with its leadership.
/// </summary>
public sealed class PartitionLeaderEntity : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    private readonly string _topic;
    private readonly int _partition;
    private readonly GroupSettings _groups;
    private readonly IActorRef _registry;

    public PartitionLeaderEntity(string topic, int partition, GroupSettings groups, IActorRef registry)
    {
        _topic = topic;
        _partition = partition;
        _groups = groups;
        _registry = registry;
        // The node's replica manager (started with the region) owns the replica; ask by path so the entity needs no reference at start.
        var ask = new GetReplica(topic, partition);
        Receive<AskAgain>(_ => Context.ActorSelection("/user/" + ReplicaManagerActor.Name).Tell(ask));
        Receive<ReplicaFound>(found =>
        {
            Timers.Cancel(AskAgain.Instance);
            OnReplicaFound(found);
        });
        Receive<StopPartitionLeader>(_ => Context.Stop(Self));
        ReceiveAny(_ => Stash.Stash());
    }

    public IStash Stash { get; set; } = null!;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string entityId, GroupSettings groups, IActorRef registry)
    {
        var (topic, partition) = PartitionEntity.Parse(entityId);
        return Akka.Actor.Props.Create(() => new PartitionLeaderEntity(topic, partition, groups, registry));
    }

    protected override void PreStart()
    {
        Self.Tell(AskAgain.Instance);
        // Asked again until answered: an entity can start before the manager does.
        Timers.StartPeriodicTimer(AskAgain.Instance, AskAgain.Instance, TimeSpan.FromSeconds(1));
    }

    private void OnReplicaFound(ReplicaFound found)
    {
        if (found.Replica is not { } replica)
        {
            Become(() => ReceiveAny(m => Refuse(m, found.Error, found.Reason ?? "no replica here")));
            Stash.UnstashAll();
            Context.Parent.Tell(new Passivate(StopPartitionLeader.Instance));
            return;
        }
        Context.Watch(replica);
        replica.Tell(new LeadPartition(Self));
        var groups = OffsetsTopic.IsInternal(_topic) ? Context.ActorOf(GroupPartitionActor.Props(_partition, replica, _groups, _registry), "groups") : null;
        Become(() =>
        {
            if (groups is not null)
            {
                Receive<IGroupMessage>(m => groups.Forward(m));
                Receive<ListCoordinatedGroups>(m => groups.Forward(m));
            }
            Receive<StopPartitionLeader>(_ =>
            {
                replica.Tell(new ResignLeadership(Self));
                Context.Stop(Self);
            });
            Receive<Terminated>(t => t.ActorRef.Equals(replica), _ => Context.Stop(Self));
            Receive<AskAgain>(_ => { });
            Receive<ReplicaFound>(_ => { });
            ReceiveAny(m => replica.Forward(m));
        });
        Stash.UnstashAll();
    }

    private sealed record AskAgain
    {
        public static readonly AskAgain Instance = new();
    }

    private void Refuse(object message, ErrorCode error, string reason)
    {
        if (message is StopPartitionLeader)
        {
            Context.Stop(Self);
            return;
        }
        if (Sender.IsNobody()) return;
        var text = $"partition {_topic}/{_partition}: {reason}";
        object? reply = message switch
        {
            AppendBatch a => new AppendResult(a.Topic, a.Partition, error, text, -1),
            FetchRequest f => new FetchResponse(f.Topic, f.Partition, error, text, -1, -1, ReadOnlyMemory<byte>.Empty),
            ListOffsetsRequest l => new ListOffsetsResponse(l.Topic, l.Partition, error, text, -1, -1),
            DeleteRecordsRequest d => new DeleteRecordsResponse(d.Topic, d.Partition, error, text, -1),
            OffsetForLeaderEpochRequest o => new OffsetForLeaderEpochResponse(o.Topic, o.Partition, error, text, -1, -1),
            DescribeProducersRequest dp => new DescribeProducersResponse(dp.Topic, dp.Partition, error, text, []),
            GetPartitionInfo g => new PartitionInfo(g.Topic, g.Partition, error, text, -1, -1, -1, -1, -1, ""),
            IGroupMessage g => new ErrorResponse(ErrorCode.NotCoordinator, $"group {g.GroupId}: no coordinator on this node ({text}); retry"),
            ListCoordinatedGroups => new ListGroupsResponse(ErrorCode.NotCoordinator, text, []),
            ReplicaFetch r => new ReplicaFetchResult(r.Topic, r.Partition, r.FetchId, error, text, -1, -1, -1, -1, -1, -1, ReadOnlyMemory<byte>.Empty),
            _ => null,
        };
        if (reply is not null) Sender.Tell(reply);
    }
}
