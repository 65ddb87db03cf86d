using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Partitions;
using Broker.Server.Topics;

namespace Broker.Server.Gateway;

/// <summary>
/// The client-facing actor of a node, at /user/gateway. It checks requests against its copy of the
/// topic list (kept current by the registry's pub-sub), routes partition work to the partition shard
/// region, and never does a partition's work itself: fetches and offset look-ups are forwarded, so the
/// partition replies straight to the client; produce requests are split per partition and the replies
/// gathered into one response. Anything it cannot read is answered with InvalidRequest.
/// </summary>
public sealed class GatewayActor : ReceiveActor
{
    private readonly BrokerSettings _settings;
    private readonly IActorRef _partitions;
    private readonly IActorRef _registry;
    private readonly IActorRef _groups;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private Dictionary<string, TopicDescriptor> _topics = new(StringComparer.Ordinal);

    public GatewayActor(BrokerSettings settings, IActorRef partitions, IActorRef registry, IActorRef groups)
    {
        _settings = settings;
        _partitions = partitions;
        _registry = registry;
        _groups = groups;

        Receive<TopicsSnapshot>(UpdateTopics);
        Receive<SubscribeAck>(_ => { });
        Receive<ProduceRequest>(r => Produce(r, Sender, refreshed: false));
        Receive<FetchRequest>(r => RouteToPartition(r, r.Topic, r.Partition, Sender, refreshed: false));
        Receive<ListOffsetsRequest>(r => RouteToPartition(r, r.Topic, r.Partition, Sender, refreshed: false));
        Receive<CreateTopicsRequest>(r => AskRegistry(r, Sender));
        Receive<DeleteTopicsRequest>(r => AskRegistry(r, Sender));
        Receive<MetadataRequest>(r => MetadataBuilder.Build(r, _registry, _partitions, _cluster.State, _settings.RequestTimeout).PipeTo(Sender));
        Receive<ClusterStatusRequest>(_ => ClusterStatusBuilder.Build(_cluster.State, Context.System, _settings.RequestTimeout).PipeTo(Sender));
        Receive<GetHostedPartitions>(_ => ClusterStatusBuilder.LocalPartitions(_partitions, _cluster.SelfAddress.ToString()).PipeTo(Sender));
        Receive<IGroupMessage>(RouteToGroup);
        Receive<ListGroupsRequest>(_ => GroupLister.ListAsync(Context.System, _groups, _settings.RequestTimeout).PipeTo(Sender));
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

    public static Props Props(BrokerSettings settings, IActorRef partitions, IActorRef registry, IActorRef groups) =>
        Akka.Actor.Props.Create(() => new GatewayActor(settings, partitions, registry, groups));

    protected override void PreStart()
    {
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(TopicRegistryTopics.Changes, Self));
    }

    private void UpdateTopics(TopicsSnapshot snapshot) =>
        _topics = snapshot.Topics.ToDictionary(t => t.Name, StringComparer.Ordinal);

    private void AskRegistry(IBrokerRequest request, IActorRef replyTo)
    {
        _registry.Ask<IBrokerResponse>(request, _settings.RequestTimeout).PipeTo(replyTo,
            failure: ex => new ErrorResponse(ErrorCode.RequestTimedOut,
                $"the topic registry did not answer within {_settings.RequestTimeout.TotalSeconds:0}s ({ex.GetType().Name}); the cluster may still be forming, retry shortly"));
    }

    /// <summary>A request named a topic we do not know: ask the registry once (it may have just been created), then retry.</summary>
    private void RefreshAndRetry(object request, IActorRef replyTo)
    {
        _registry.Ask<TopicsSnapshot>(GetAllTopics.Instance, _settings.RequestTimeout).PipeTo(Self,
            success: topics => new RetryWithTopics(request, replyTo, topics),
            failure: _ => new RetryWithTopics(request, replyTo, null));
    }

    private void Retry(RetryWithTopics retry)
    {
        if (retry.Topics is not null) UpdateTopics(retry.Topics);
        switch (retry.Request)
        {
            case ProduceRequest p: Produce(p, retry.ReplyTo, refreshed: true); break;
            case FetchRequest f: RouteToPartition(f, f.Topic, f.Partition, retry.ReplyTo, refreshed: true); break;
            case ListOffsetsRequest l: RouteToPartition(l, l.Topic, l.Partition, retry.ReplyTo, refreshed: true); break;
        }
    }

    /// <summary>Group requests go to the group's coordinator entity, which replies to the client directly.</summary>
    private void RouteToGroup(IGroupMessage request)
    {
        const int MaxGroupIdLength = 249;
        if (string.IsNullOrEmpty(request.GroupId) || request.GroupId.Length > MaxGroupIdLength)
        {
            Sender.Tell(new ErrorResponse(ErrorCode.InvalidGroupId, $"group id must be 1 to {MaxGroupIdLength} characters, got '{request.GroupId}'"));
            return;
        }
        _groups.Forward(request);
    }

    private (ErrorCode, string?) Check(string topic, int partition)
    {
        if (!_topics.TryGetValue(topic, out var descriptor))
            return (ErrorCode.UnknownTopic, $"topic '{topic}' does not exist; create it with `broker topics create {topic}`");
        if (partition < 0 || partition >= descriptor.Partitions)
            return (ErrorCode.UnknownPartition, $"topic '{topic}' has partitions 0 to {descriptor.Partitions - 1}; partition {partition} does not exist");
        return (ErrorCode.None, null);
    }

    private void RouteToPartition(IBrokerRequest request, string topic, int partition, IActorRef replyTo, bool refreshed)
    {
        var (error, message) = Check(topic, partition);
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
                _ => new ErrorResponse(error, message),
            });
            return;
        }
        _partitions.Tell(request, replyTo);
    }

    private void Produce(ProduceRequest request, IActorRef replyTo, bool refreshed)
    {
        var parts = request.Partitions;
        long total = 0;
        var anyUnknownTopic = false;
        for (var i = 0; i < parts.Count; i++)
        {
            total += parts[i].Batch.Length;
            anyUnknownTopic |= !_topics.ContainsKey(parts[i].Topic);
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
            var (error, message) = total > _settings.MaxRequestBytes
                ? (ErrorCode.RecordTooLarge, $"produce request of {total} bytes exceeds broker.limits.max-request-bytes={_settings.MaxRequestBytes}; send smaller requests (max.request.size)")
                : Check(part.Topic, part.Partition);
            if (error != ErrorCode.None)
            {
                results[i] = Task.FromResult(new ProducePartitionResult(part.Topic, part.Partition, error, message, -1));
                continue;
            }
            var append = new AppendBatch(part.Topic, part.Partition, part.Batch);
            if (request.Acks == 0)
            {
                _partitions.Tell(append, ActorRefs.Nobody);
                continue;
            }
            results[i] = AppendAsync(append, request.TimeoutMs);
        }
        if (request.Acks == 0) return;
        Gather(results).PipeTo(replyTo);
    }

    private async Task<ProducePartitionResult> AppendAsync(AppendBatch append, int timeoutMs)
    {
        var timeout = timeoutMs > 0 ? TimeSpan.FromMilliseconds(timeoutMs) : _settings.RequestTimeout;
        try
        {
            var r = await _partitions.Ask<AppendResult>(append, timeout).ConfigureAwait(false);
            return new ProducePartitionResult(r.Topic, r.Partition, r.Error, r.ErrorMessage, r.BaseOffset);
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
