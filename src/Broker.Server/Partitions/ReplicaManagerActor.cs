using Akka.Actor;
using Akka.DistributedData;
using Akka.Event;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Metadata;
using Broker.Server.Topics;

namespace Broker.Server.Partitions;

/// <summary>
/// One per node, at /user/partition-replicas: runs this node's replica of every partition assigned to it
/// (Kafka's ReplicaManager). It follows the topic table in the metadata store and starts a
/// <see cref="PartitionActor"/> for each assigned partition (which follows its leader until told to lead),
/// tells replicas about config changes, and has them purge their logs when their topic is deleted or their
/// replica is moved away: both are committed facts in the store (a tombstone, a new assignment), never
/// inferred from a topic missing in a stale copy. It is also where a leader entity finds its local replica.
/// </summary>
public sealed class ReplicaManagerActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    public const string Name = "partition-replicas";

    private readonly BrokerSettings _settings;
    private readonly IActorRef _region;
    private readonly int _nodeId;
    private readonly MetadataStore _store;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, (IActorRef Replica, string TopicId, long Version)> _replicas = new(StringComparer.Ordinal);
    // Replicas purging before they stop: no new replica of that partition starts until they are gone (one writer per persistence id).
    private readonly Dictionary<IActorRef, string> _stopping = new();
    private TopicTable _topics = TopicTable.Empty;

    public ReplicaManagerActor(BrokerSettings settings, IActorRef region, int nodeId)
    {
        _settings = settings;
        _region = region;
        _nodeId = nodeId;
        _store = new MetadataStore(Context.System, settings.MetadataTimeout);
        if (settings.IsrFenceDirectory is { } directory && _store.ByConsensus) Fencing(directory);
        else Serving();
    }

    public IStash Stash { get; set; } = null!;

    public ITimerScheduler Timers { get; set; } = null!;

    private void Serving()
    {
        Receive<Changed>(c => c.Key.Equals(MetadataKeys.Topics), c => Reconcile(c.Get(MetadataKeys.Topics)));
        Receive<TopicTable>(Reconcile);
        Receive<GetReplica>(g => Find(g, Sender, askedMajority: false));
        Receive<FetchRequest>(ForwardToReplica);
        Receive<FoundAfterRead>(f =>
        {
            Reconcile(f.Topics);
            Find(f.Request, f.ReplyTo, askedMajority: true);
        });
        Receive<Terminated>(OnReplicaStopped);
        Receive<Status.Failure>(f => _log.Warning("replica manager: metadata read failed: {0}", f.Cause.Message));
    }

    /// <summary>A new or wiped data directory: leave every ISR (committed) before any replica runs here; requests wait.</summary>
    private void Fencing(string directory)
    {
        LostLogFence.RunAsync(_store, _nodeId).PipeTo(Self, success: left => new Fenced(left, null), failure: ex => new Fenced(0, ex.Message));
        Become(() =>
        {
            Receive<Fenced>(fenced =>
            {
                if (fenced.Failure is not null)
                {
                    _log.Warning("node {0} has a new data directory and must leave every ISR before it runs replicas, but the metadata quorum did not take the change ({1}); retrying", _nodeId, fenced.Failure);
                    Timers.StartSingleTimer("fence", RetryFence.Instance, TimeSpan.FromSeconds(1));
                    return;
                }
                LostLogFence.Done(directory);
                if (fenced.Left > 0)
                    _log.Warning("node {0} started on a new data directory: it left the ISR of {1} partition(s) it held no data for, and rejoins each once it has caught up", _nodeId, fenced.Left);
                Become(Serving);
                Stash.UnstashAll();
            });
            Receive<RetryFence>(_ => Fencing(directory));
            ReceiveAny(_ => Stash.Stash());
        });
    }

    public static Props Props(BrokerSettings settings, IActorRef region, int nodeId) =>
        Akka.Actor.Props.Create(() => new ReplicaManagerActor(settings, region, nodeId));

    private IDisposable? _subscription;

    protected override void PostStop() => _subscription?.Dispose();

    protected override void PreStart()
    {
        _subscription = _store.SubscribeTopics(Self);
        _store.TopicsAsync(majority: false).PipeTo(Self);
    }

    private static string Key(string topic, int partition) => PartitionEntity.EntityId(topic, partition);

    private void Reconcile(TopicTable table)
    {
        _topics = _topics.Merge(table);
        foreach (var entry in _topics.Entries.Values)
        {
            var topic = entry.Topic;
            for (var p = 0; p < topic.Partitions; p++)
            {
                var key = Key(topic.Name, p);
                var assigned = !entry.Deleted && topic.ReplicasOf(p).Contains(_nodeId);
                if (_replicas.TryGetValue(key, out var running))
                {
                    if (running.TopicId != topic.TopicId && !assigned) continue; // an older incarnation's tombstone: not ours to act on
                    if (!assigned)
                    {
                        running.Replica.Tell(new DeleteReplica(entry.Deleted ? "its topic was deleted" : "its replica was moved to other nodes"));
                        _replicas.Remove(key);
                        _stopping[running.Replica] = key;
                    }
                    else if (running.TopicId != topic.TopicId || running.Version != entry.Version)
                    {
                        // Configs changed, or the topic was deleted and created again (the replica purges its old log).
                        running.Replica.Tell(new TopicUpdated(topic));
                        _replicas[key] = (running.Replica, topic.TopicId, entry.Version);
                    }
                }
                else if (assigned && !_stopping.ContainsValue(key))
                {
                    Start(topic, p, entry.Version);
                }
            }
        }
    }

    private IActorRef Start(TopicDescriptor topic, int partition, long version)
    {
        var replica = Context.ActorOf(PartitionActor.Props(topic, partition, _settings, _region, _nodeId), $"{topic.Name}-{partition}");
        Context.Watch(replica);
        _replicas[Key(topic.Name, partition)] = (replica, topic.TopicId, version);
        return replica;
    }

    private void Find(GetReplica request, IActorRef replyTo, bool askedMajority)
    {
        if (_stopping.ContainsValue(Key(request.Topic, request.Partition)))
        {
            replyTo.Tell(new ReplicaFound(null, ErrorCode.NotLeader, "its previous replica here is still being removed; retry shortly"));
            return;
        }
        if (_replicas.TryGetValue(Key(request.Topic, request.Partition), out var running))
        {
            replyTo.Tell(new ReplicaFound(running.Replica, ErrorCode.None, null));
            return;
        }
        var topic = _topics.Find(request.Topic);
        if (topic is null || request.Partition >= topic.Partitions || !topic.ReplicasOf(request.Partition).Contains(_nodeId))
        {
            if (!askedMajority)
            {
                // This node may not have heard of the topic yet: ask a majority before refusing.
                var self = Self;
                _store.TopicsAsync(majority: true).PipeTo(self, success: t => new FoundAfterRead(request, replyTo, t),
                    failure: _ => new FoundAfterRead(request, replyTo, TopicTable.Empty));
                return;
            }
            replyTo.Tell(topic is null
                ? new ReplicaFound(null, ErrorCode.UnknownTopic, ErrorText.UnknownTopic(request.Topic))
                : request.Partition >= topic.Partitions
                    ? new ReplicaFound(null, ErrorCode.UnknownPartition, ErrorText.UnknownPartition(request.Topic, topic.Partitions, request.Partition))
                    : new ReplicaFound(null, ErrorCode.NotLeader, $"node {_nodeId} holds no replica of it; retry, the cluster will place its leader on a replica"));
            return;
        }
        replyTo.Tell(new ReplicaFound(Start(topic, request.Partition, _topics.Get(topic.Name)!.Version), ErrorCode.None, null));
    }

    /// <summary>A consumer's fetch routed to this node's follower (KIP-392): the replica serves it, or the consumer retries.</summary>
    private void ForwardToReplica(FetchRequest fetch)
    {
        if (_replicas.TryGetValue(Key(fetch.Topic, fetch.Partition), out var running))
        {
            running.Replica.Forward(fetch);
            return;
        }
        Sender.Tell(new FetchResponse(fetch.Topic, fetch.Partition, ErrorCode.NotLeader,
            $"node {_nodeId} holds no replica of {fetch.Topic}/{fetch.Partition} any more; retry, the request goes to another replica", -1, -1, ReadOnlyMemory<byte>.Empty));
    }

    private void OnReplicaStopped(Terminated terminated)
    {
        if (_stopping.Remove(terminated.ActorRef))
        {
            Reconcile(TopicTable.Empty); // start what waited for it
            return;
        }
        string? stopped = null;
        foreach (var (key, running) in _replicas)
            if (running.Replica.Equals(terminated.ActorRef)) stopped = key;
        if (stopped is null) return; // deleted on purpose
        _replicas.Remove(stopped);
        var (topicName, partition) = PartitionEntity.Parse(stopped);
        if (_topics.Find(topicName) is { } topic && topic.ReplicasOf(partition).Contains(_nodeId))
        {
            _log.Warning("replica of {0} stopped unexpectedly; starting it again from its journal", stopped);
            Start(topic, partition, _topics.Get(topicName)!.Version);
        }
    }

    private sealed record FoundAfterRead(GetReplica Request, IActorRef ReplyTo, TopicTable Topics);

    private sealed record Fenced(int Left, string? Failure);

    private sealed record RetryFence
    {
        public static readonly RetryFence Instance = new();
    }
}
