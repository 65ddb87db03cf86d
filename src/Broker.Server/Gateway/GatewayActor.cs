using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Groups;
using Broker.Server.Membership;
using Broker.Server.Metadata;
using Broker.Server.Monitoring;
using Broker.Server.Partitions;
using Broker.Server.Producers;
using Broker.Server.Topics;

namespace Broker.Server.Gateway;

/// <summary>
/// The client-facing actor of a node, at /user/gateway. It checks requests against its copy of the
/// metadata (topics, leaders and ISRs, kept current by Distributed Data subscriptions), routes partition
/// work to the partition shard region, which delivers it to the partition's leader wherever it runs, and
/// never does a partition's work itself: fetches and offset look-ups are forwarded, so the leader replies
/// straight to the client; produce requests are split per partition and the replies gathered into one
/// response. A partition with no live in-sync replica is answered LeaderNotAvailable at once instead of
/// waiting for a timeout. Anything it cannot read is answered with InvalidRequest.
/// </summary>
public sealed class GatewayActor : ReceiveActor, IWithTimers
{
    private readonly BrokerSettings _settings;
    private readonly IActorRef _partitions;
    private readonly IActorRef _registry;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly MetadataStore _store;
    private readonly IActorRef _producerIds;
    private readonly BrokerMetrics _metrics = BrokerMetrics.Get(Context.System);
    private TopicTable _topics = TopicTable.Empty;
    private PartitionStateTable _states = PartitionStateTable.Empty;
    private LiveNodes _live;

    public GatewayActor(BrokerSettings settings, IActorRef partitions, IActorRef registry)
    {
        _settings = settings;
        _partitions = partitions;
        _registry = registry;
        _store = new MetadataStore(Context.System, settings.MetadataTimeout);
        _live = new LiveNodes(_cluster.State);
        _producerIds = Context.ActorOf(ProducerIdManagerActor.Props(settings), ProducerIdManagerActor.Name);

        Receive<Changed>(OnMetadataChanged);
        Receive<TopicTable>(t => _topics = _topics.Merge(t));
        Receive<PartitionStateTable>(s => _states = _states.Merge(s));
        // Cluster.State is updated by Akka's own subscriber, which can lag behind the event this actor gets:
        // rebuild on every event and again every second, so a node that became reachable again is not
        // treated as down until the next membership change.
        Receive<ClusterEvent.IMemberEvent>(_ => _live = new LiveNodes(_cluster.State));
        Receive<ClusterEvent.IReachabilityEvent>(_ => _live = new LiveNodes(_cluster.State));
        Receive<RefreshLiveNodes>(_ => _live = new LiveNodes(_cluster.State));
        Receive<Status.Failure>(f => _log.Warning("gateway: metadata read failed: {0}", f.Cause.Message));
        Receive<ProduceRequest>(r => Produce(r, Sender, refreshed: false));
        Receive<FetchRequest>(r => RouteToPartition(r, r.Topic, r.Partition, Sender, refreshed: false));
        Receive<ListOffsetsRequest>(r => RouteToPartition(r, r.Topic, r.Partition, Sender, refreshed: false));
        Receive<DeleteRecordsRequest>(r => RouteToPartition(r, r.Topic, r.Partition, Sender, refreshed: false));
        Receive<OffsetForLeaderEpochRequest>(r => RouteToPartition(r, r.Topic, r.Partition, Sender, refreshed: false));
        Receive<DescribeProducersRequest>(r => RouteToPartition(r, r.Topic, r.Partition, Sender, refreshed: false));
        Receive<CreateTopicsRequest>(r => AskRegistry(r, Sender));
        Receive<DeleteTopicsRequest>(r => AskRegistry(r, Sender));
        Receive<ReassignPartitionsRequest>(r => AskRegistry(r, Sender));
        Receive<AlterTopicConfigsRequest>(r => AskRegistry(r, Sender));
        Receive<CreatePartitionsRequest>(r => AskRegistry(r, Sender));
        Receive<MetadataRequest>(r => Metadata(r, Sender, refreshed: false));
        Receive<ClusterStatusRequest>(_ => ClusterStatusBuilder.Build(_cluster.State, Context.System, _settings.ClusterStatusTimeout).PipeTo(Sender));
        Receive<GetHostedPartitions>(_ => ClusterStatusBuilder.LocalPartitions(_partitions, _cluster.SelfAddress.ToString(), _settings.ClusterStatusTimeout).PipeTo(Sender));
        Receive<IGroupMessage>(r => RouteToGroup(r, Sender, refreshed: false));
        Receive<AtCoordinatorOnly>(r => RouteToGroupHere(r.Request, Sender));
        Receive<WakeCoordinator>(w => WakeCoordinatorOf(w.GroupId));
        Receive<InitProducerIdRequest>(r => _producerIds.Forward(r));
        Receive<ListGroupsRequest>(_ => GroupLister.ListAsync(_partitions, _topics.Find(OffsetsTopic.Name)?.Partitions ?? 0, _settings.RequestTimeout).PipeTo(Sender));
        Receive<RetryWithTopics>(Retry);
        Receive<MalformedRequest>(m =>
        {
            _log.Warning("malformed request from {0} ({1}): {2}", Sender.Path, m.Manifest, m.Reason);
            Sender.Tell(new ErrorResponse(ErrorCode.InvalidRequest, $"could not read request '{m.Manifest}': {m.Reason}; check that client and broker versions match"));
        });
        Receive<IBrokerResponse>(r => _log.Warning("gateway ignored a stray response {0} from {1}", r.GetType().Name, Sender.Path));
        ReceiveAny(m =>
        {
            _log.Warning("unknown request {0} from {1}", m.GetType().FullName, Sender.Path);
            Sender.Tell(new ErrorResponse(ErrorCode.InvalidRequest, $"unknown request type '{m.GetType().Name}'; send one of the Broker.Protocol requests"));
        });
    }

    public static Props Props(BrokerSettings settings, IActorRef partitions, IActorRef registry) =>
        Akka.Actor.Props.Create(() => new GatewayActor(settings, partitions, registry));

    protected override void PreStart()
    {
        _subscriptions = [_store.SubscribeTopics(Self), _store.SubscribePartitions(Self)];
        _store.TopicsAsync(majority: false).PipeTo(Self);
        _store.PartitionsAsync(majority: false).PipeTo(Self);
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Timers.StartPeriodicTimer(RefreshLiveNodes.Instance, RefreshLiveNodes.Instance, TimeSpan.FromSeconds(1));
    }

    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        foreach (var subscription in _subscriptions) subscription.Dispose();
    }

    private IDisposable[] _subscriptions = [];

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed class RefreshLiveNodes
    {
        public static readonly RefreshLiveNodes Instance = new();
    }

    private void OnMetadataChanged(Changed changed)
    {
        if (changed.Key.Equals(MetadataKeys.Topics)) _topics = _topics.Merge(changed.Get(MetadataKeys.Topics));
        else if (changed.Key.Equals(MetadataKeys.Partitions)) _states = _states.Merge(changed.Get(MetadataKeys.Partitions));
    }

    private void AskRegistry(IBrokerRequest request, IActorRef replyTo)
    {
        AskRegistryAsync(_registry, _store, request, replyTo, _settings.RequestTimeout).PipeTo(Self);
    }

    /// <summary>
    /// The registry's answer, after a majority read of the metadata it wrote: so this node's next request
    /// already sees the topic it just created or deleted (read-your-writes for the admin client).
    /// </summary>
    private static async Task<RetryWithTopics> AskRegistryAsync(IActorRef registry, MetadataStore store, IBrokerRequest request, IActorRef replyTo, TimeSpan timeout)
    {
        IBrokerResponse response;
        try
        {
            response = await registry.Ask<IBrokerResponse>(request, timeout).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            response = new ErrorResponse(ErrorCode.RequestTimedOut,
                $"the topic registry did not answer within {timeout.TotalSeconds:0}s ({ex.GetType().Name}); the cluster may still be forming, retry shortly");
        }
        return await ReadMajorityAsync(store, response, replyTo).ConfigureAwait(false);
    }

    /// <summary>A request named a topic we do not know: read the topics from a majority once (it may have just been created), then retry.</summary>
    private void RefreshAndRetry(object request, IActorRef replyTo)
    {
        ReadMajorityAsync(_store, request, replyTo).PipeTo(Self);
    }

    private static async Task<RetryWithTopics> ReadMajorityAsync(MetadataStore store, object request, IActorRef replyTo)
    {
        try
        {
            var topics = store.TopicsAsync(majority: true);
            var states = store.PartitionsAsync(majority: true);
            return new RetryWithTopics(request, replyTo, await topics.ConfigureAwait(false), await states.ConfigureAwait(false));
        }
        catch (Exception)
        {
            return new RetryWithTopics(request, replyTo, null, null); // answer from what this node knows
        }
    }

    private void Retry(RetryWithTopics retry)
    {
        if (retry.Topics is not null) _topics = _topics.Merge(retry.Topics);
        if (retry.States is not null) _states = _states.Merge(retry.States);
        switch (retry.Request)
        {
            case ProduceRequest p: Produce(p, retry.ReplyTo, refreshed: true); break;
            case FetchRequest f: RouteToPartition(f, f.Topic, f.Partition, retry.ReplyTo, refreshed: true); break;
            case ListOffsetsRequest l: RouteToPartition(l, l.Topic, l.Partition, retry.ReplyTo, refreshed: true); break;
            case DeleteRecordsRequest d: RouteToPartition(d, d.Topic, d.Partition, retry.ReplyTo, refreshed: true); break;
            case OffsetForLeaderEpochRequest o: RouteToPartition(o, o.Topic, o.Partition, retry.ReplyTo, refreshed: true); break;
            case DescribeProducersRequest dp: RouteToPartition(dp, dp.Topic, dp.Partition, retry.ReplyTo, refreshed: true); break;
            case MetadataRequest m: Metadata(m, retry.ReplyTo, refreshed: true); break;
            case IGroupMessage g: RouteToGroup(g, retry.ReplyTo, refreshed: true); break;
            case OffsetsTopicCreated created: RouteCreated(created, retry.ReplyTo); break;
            case IBrokerResponse answer: retry.ReplyTo.Tell(answer); break; // the registry's answer, now that this node has read what it wrote
        }
    }

    private void Metadata(MetadataRequest request, IActorRef replyTo, bool refreshed)
    {
        if (!refreshed && request.Topics is { } names)
        {
            foreach (var name in names)
            {
                if (_topics.Find(name) is not null) continue;
                RefreshAndRetry(request, replyTo);
                return;
            }
        }
        MetadataBuilder.Build(request, _topics, _states, _live, _partitions, _cluster.State, _settings).PipeTo(replyTo);
    }

    /// <summary>
    /// Group requests go to the leader of the group's __consumer_offsets partition (through the partition shard region),
    /// beside which the group's coordinator runs and replies to the client directly. The topic is created on first use.
    /// </summary>
    private void RouteToGroup(IGroupMessage request, IActorRef replyTo, bool refreshed)
    {
        const int maxGroupIdLength = 249;
        if (string.IsNullOrEmpty(request.GroupId) || request.GroupId.Length > maxGroupIdLength)
        {
            replyTo.Tell(new ErrorResponse(ErrorCode.InvalidGroupId, $"group id must be 1 to {maxGroupIdLength} characters, got '{request.GroupId}'"));
            return;
        }
        if (_topics.Find(OffsetsTopic.Name) is not null)
        {
            _partitions.Tell(request, replyTo);
            return;
        }
        if (!refreshed)
        {
            RefreshAndRetry(request, replyTo); // another node may have created it
            return;
        }
        var spec = new TopicSpec(OffsetsTopic.Name, _settings.Groups.OffsetsTopicPartitions, -1, new Dictionary<string, string>());
        CreateOffsetsTopicAsync(_registry, _store, spec, request, replyTo, _settings.RequestTimeout).PipeTo(Self);
    }

    /// <summary>
    /// A Kafka client's group request: served only where the group's coordinator runs (or before the internal topic
    /// exists, when it creates it), else NotCoordinator at once, so nothing a client sent waits on another node for a
    /// coordinator that moved while its later requests reach the new one (<see cref="CoordinatorPlacement"/>).
    /// </summary>
    private void RouteToGroupHere(IGroupMessage request, IActorRef replyTo)
    {
        var offsets = _topics.Find(OffsetsTopic.Name);
        var partition = offsets is null ? -1 : OffsetsTopic.PartitionFor(request.GroupId, offsets.Partitions);
        var state = offsets is null ? null : _states.Find(offsets.TopicId, partition);
        var placement = CoordinatorPlacement.Of(offsets is not null, state?.Leader ?? PartitionState.NoLeader, NodeIdentity.Self(Context.System),
            id => _live.Count == 0 || _live.IsAlive(id), offsets is not null && HostedGroupPartitions.Get(Context.System).Contains(partition));
        switch (placement)
        {
            case CoordinatorPlacement.NotCreated or CoordinatorPlacement.Here:
                RouteToGroup(request, replyTo, refreshed: false);
                return;
            case CoordinatorPlacement.Elsewhere elsewhere:
                replyTo.Tell(new ErrorResponse(ErrorCode.NotCoordinator, $"the coordinator of group {request.GroupId} runs on node {elsewhere.NodeId}, not here; find it again"));
                return;
            case CoordinatorPlacement.Unknown unknown:
                WakeCoordinatorOf(request.GroupId); // as the forwarded request used to
                replyTo.Tell(new ErrorResponse(ErrorCode.NotCoordinator, $"group {request.GroupId} has no coordinator now ({unknown.Reason}); find it again shortly"));
                return;
        }
    }

    /// <summary>
    /// Sharding starts a dead leader's entity elsewhere (so elects a new leader) only for a message to its shard: send the
    /// group's partition one that changes nothing (<see cref="WakeCoordinator"/>).
    /// </summary>
    private void WakeCoordinatorOf(string groupId)
    {
        if (_topics.Find(OffsetsTopic.Name) is { } offsets)
            _partitions.Tell(new GetPartitionInfo(OffsetsTopic.Name, OffsetsTopic.PartitionFor(groupId, offsets.Partitions)), ActorRefs.Nobody);
    }

    /// <summary>First use of groups in the cluster: creates __consumer_offsets (RF min(3, live nodes)), then reads the topics from a majority.</summary>
    private static async Task<RetryWithTopics> CreateOffsetsTopicAsync(IActorRef registry, MetadataStore store, TopicSpec spec, IGroupMessage request, IActorRef replyTo, TimeSpan timeout)
    {
        string? problem = null;
        try
        {
            var result = (await registry.Ask<CreateTopicsResponse>(new CreateTopicsRequest([spec]), timeout).ConfigureAwait(false)).Results[0];
            if (result.Error is not (ErrorCode.None or ErrorCode.TopicAlreadyExists)) problem = $"{result.Error}: {result.ErrorMessage}";
        }
        catch (Exception ex)
        {
            problem = $"the topic registry did not answer ({ex.GetType().Name})";
        }
        return await ReadMajorityAsync(store, new OffsetsTopicCreated(request, problem), replyTo).ConfigureAwait(false);
    }

    private void RouteCreated(OffsetsTopicCreated created, IActorRef replyTo)
    {
        if (_topics.Find(OffsetsTopic.Name) is not null)
        {
            _partitions.Tell(created.Request, replyTo);
            return;
        }
        replyTo.Tell(new ErrorResponse(ErrorCode.NotCoordinator,
            $"the internal topic {OffsetsTopic.Name}, where groups live, could not be created ({created.Problem ?? "not visible yet"}); retry"));
    }

    /// <summary>Whether a request for the partition can go to its leader; on None, the topic and its leader/ISR state as this node knows them.</summary>
    private (ErrorCode, string?) Check(string topic, int partition, out TopicDescriptor? descriptor, out PartitionState? state)
    {
        state = null;
        descriptor = _topics.Find(topic);
        if (descriptor is null)
            return (ErrorCode.UnknownTopic, ErrorText.UnknownTopic(topic));
        if (partition < 0 || partition >= descriptor.Partitions)
            return (ErrorCode.UnknownPartition, ErrorText.UnknownPartition(topic, descriptor.Partitions, partition));
        state = _states.Find(descriptor.TopicId, partition);
        if (state is not null && _live.Count > 0 && !descriptor.Config(_settings).UncleanLeaderElection
            && LeaderChoice.For(descriptor, partition, state, false, _live.IsAlive, out _) < 0)
        {
            return (ErrorCode.LeaderNotAvailable, $"partition {topic}/{partition} is offline: none of its in-sync replicas (nodes {string.Join(",", state.Isr)}) is up; start one of those nodes again");
        }
        // Its leader's node stopped answering: a request sent there would only time out. Fail fast; the cluster
        // downs that node and elects a new leader from the ISR within seconds.
        if (state is { Leader: > 0 } && _live.Count > 0 && !_live.IsAlive(state.Leader))
            return (ErrorCode.NotLeader, $"partition {topic}/{partition}: its leader, node {state.Leader}, is unreachable; a new leader is being elected from the in-sync replicas, retry shortly");
        return (ErrorCode.None, null);
    }

    private void RouteToPartition(IBrokerRequest request, string topic, int partition, IActorRef replyTo, bool refreshed)
    {
        if (request is FetchRequest { ClientRack.Length: > 0 } fetch && FollowerInRack(fetch) is { } follower)
        {
            // KIP-392: an in-sync follower in the client's rack serves the fetch (up to its own high watermark) and replies directly.
            Context.ActorSelection($"{follower}/user/{ReplicaManagerActor.Name}").Tell(fetch, replyTo);
            return;
        }
        var (error, message) = Check(topic, partition, out _, out _);
        if (error == ErrorCode.UnknownTopic && !refreshed)
        {
            RefreshAndRetry(request, replyTo);
            return;
        }
        if (error != ErrorCode.None)
        {
            replyTo.Tell(request switch
            {
                FetchRequest f => new FetchResponse(f.Topic, f.Partition, error, message, -1, -1, ReadOnlyMemory<byte>.Empty),
                ListOffsetsRequest l => new ListOffsetsResponse(l.Topic, l.Partition, error, message, -1, -1),
                DeleteRecordsRequest d => new DeleteRecordsResponse(d.Topic, d.Partition, error, message, -1),
                OffsetForLeaderEpochRequest o => new OffsetForLeaderEpochResponse(o.Topic, o.Partition, error, message, -1, -1),
                DescribeProducersRequest dp => new DescribeProducersResponse(dp.Topic, dp.Partition, error, message, []),
                _ => new ErrorResponse(error, message),
            });
            return;
        }
        _partitions.Tell(request, replyTo);
    }

    /// <summary>The node of a live in-sync follower in the fetch's client rack; null when the leader is there or none is.</summary>
    private Address? FollowerInRack(FetchRequest fetch)
    {
        if (_topics.Find(fetch.Topic) is not { } topic || fetch.Partition < 0 || fetch.Partition >= topic.Partitions) return null;
        if (_states.Find(topic.TopicId, fetch.Partition) is not { } state) return null;
        if (_live.IsAlive(state.Leader) && _live.RackOf(state.Leader) == fetch.ClientRack) return null;
        foreach (var id in state.Isr)
            if (id != state.Leader && _live.IsAlive(id) && _live.RackOf(id) == fetch.ClientRack) return _live.AddressOf(id);
        return null;
    }

    private void Produce(ProduceRequest request, IActorRef replyTo, bool refreshed)
    {
        var parts = request.Partitions;
        long total = 0;
        var anyUnknownTopic = false;
        for (var i = 0; i < parts.Count; i++)
        {
            total += parts[i].Batch.Length;
            anyUnknownTopic |= _topics.Find(parts[i].Topic) is null;
        }
        if (anyUnknownTopic && !refreshed)
        {
            RefreshAndRetry(request, replyTo);
            return;
        }

        var results = new Task<ProducePartitionResult>[parts.Count];
        for (var i = 0; i < parts.Count; i++)
        {
            var part = parts[i];
            TopicDescriptor? topic = null;
            PartitionState? state = null;
            var (error, message) = total > _settings.MaxRequestBytes
                ? (ErrorCode.RecordTooLarge, $"produce request of {total} bytes exceeds broker.limits.max-request-bytes={_settings.MaxRequestBytes}; send smaller requests (max.request.size)")
                : Check(part.Topic, part.Partition, out topic, out state);
            if (error != ErrorCode.None)
            {
                results[i] = Task.FromResult(new ProducePartitionResult(part.Topic, part.Partition, error, message, -1));
                continue;
            }
            var append = new AppendBatch(part.Topic, part.Partition, topic!.TopicId, request.Acks, part.Batch)
            {
                LeaderEpoch = state?.LeaderEpoch ?? -1,
            };
            if (request.Acks == 0)
            {
                _partitions.Tell(append, ActorRefs.Nobody);
                _metrics.Produced(part.Topic, part.Batch.Span, started: 0);
                continue;
            }
            results[i] = AppendAsync(append, request.TimeoutMs);
        }
        _metrics.ProduceRequest();
        if (request.Acks == 0) return;
        Gather(results).PipeTo(replyTo);
    }

    private async Task<ProducePartitionResult> AppendAsync(AppendBatch append, int timeoutMs)
    {
        var timeout = timeoutMs > 0 ? TimeSpan.FromMilliseconds(timeoutMs) : _settings.RequestTimeout;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var r = await _partitions.Ask<AppendResult>(append, timeout).ConfigureAwait(false);
            if (r.Error == ErrorCode.None) _metrics.Produced(append.Topic, append.Batch.Span, started);
            return new ProducePartitionResult(r.Topic, r.Partition, r.Error, r.ErrorMessage, r.BaseOffset)
            {
                RecordErrors = r.RecordErrors,
                LogAppendTime = r.LogAppendTime,
            };
        }
        catch (Exception ex)
        {
            return new ProducePartitionResult(append.Topic, append.Partition, ErrorCode.RequestTimedOut,
                $"partition {append.Topic}/{append.Partition} did not confirm within {timeout.TotalMilliseconds:0} ms ({ex.GetType().Name}); the batch may or may not be stored", -1);
        }
    }

    private static async Task<ProduceResponse> Gather(Task<ProducePartitionResult>[] results)
    {
        var list = new ProducePartitionResult[results.Length];
        for (var i = 0; i < results.Length; i++) list[i] = await results[i].ConfigureAwait(false);
        return new ProduceResponse(list);
    }
}
