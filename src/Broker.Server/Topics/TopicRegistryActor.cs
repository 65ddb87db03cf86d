using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Akka.Persistence;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Server.Topics;

/// <summary>
/// The cluster's list of topics: a persistent actor run as a cluster singleton. Its journal holds
/// TopicCreated/TopicDeleted events (snapshotted every 100), and after every change it publishes the whole
/// list on distributed pub-sub so gateways and partitions keep a current copy without asking.
/// </summary>
public sealed class TopicRegistryActor : ReceivePersistentActor
{
    public const string PersistenceIdValue = "topic-registry";
    private const int SnapshotEvery = 100;
    private const int MaxPartitions = 10_000;

    private readonly BrokerSettings _settings;
    private readonly IActorRef _mediator;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private Dictionary<string, TopicDescriptor> _topics = new(StringComparer.Ordinal);
    private int _eventsSinceSnapshot;

    public TopicRegistryActor(BrokerSettings settings)
    {
        _settings = settings;
        _mediator = DistributedPubSub.Get(Context.System).Mediator;

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is TopicsSnapshot snapshot)
                _topics = snapshot.Topics.ToDictionary(t => t.Name, StringComparer.Ordinal);
        });
        Recover<TopicCreated>(Apply);
        Recover<TopicDeleted>(Apply);
        Recover<RecoveryCompleted>(_ =>
        {
            _log.Info("topic registry recovered {0} topics", _topics.Count);
            Publish();
        });

        Command<CreateTopicsRequest>(Create);
        Command<DeleteTopicsRequest>(Delete);
        Command<GetAllTopics>(_ => Sender.Tell(Snapshot()));
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "topic registry snapshot failed; recovery replays more events"));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "could not delete old registry snapshots"));
    }

    public override string PersistenceId => PersistenceIdValue;

    public static Props Props(BrokerSettings settings) => Akka.Actor.Props.Create(() => new TopicRegistryActor(settings));

    private void Create(CreateTopicsRequest request)
    {
        var results = new TopicResult[request.Topics.Count];
        var events = new List<TopicCreated>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < request.Topics.Count; i++)
        {
            var spec = request.Topics[i];
            var (error, message) = ValidateCreate(spec, seen);
            results[i] = new TopicResult(spec.Name, error, message);
            if (error != ErrorCode.None) continue;
            seen.Add(spec.Name);
            var configs = new Dictionary<string, string>(spec.Configs, StringComparer.Ordinal);
            events.Add(new TopicCreated(new TopicDescriptor(spec.Name, Guid.NewGuid().ToString("N"), spec.Partitions, spec.ReplicationFactor, configs)));
        }

        var replyTo = Sender;
        var response = new CreateTopicsResponse(results);
        if (events.Count == 0)
        {
            replyTo.Tell(response);
            return;
        }

        var remaining = events.Count;
        PersistAll(events, e =>
        {
            Apply(e);
            _log.Info("created topic {0} with {1} partitions", e.Topic.Name, e.Topic.Partitions);
            if (--remaining > 0) return;
            AfterChange();
            replyTo.Tell(response);
        });
    }

    private (ErrorCode, string?) ValidateCreate(TopicSpec spec, HashSet<string> seenInRequest)
    {
        var nameError = TopicConfig.ValidateName(spec.Name);
        if (nameError is not null) return (ErrorCode.InvalidTopic, nameError);
        if (_topics.ContainsKey(spec.Name) || seenInRequest.Contains(spec.Name))
            return (ErrorCode.TopicAlreadyExists, $"topic '{spec.Name}' already exists; describe it with `broker topics describe {spec.Name}`");
        if (spec.Partitions < 1 || spec.Partitions > MaxPartitions)
            return (ErrorCode.InvalidPartitions, $"a topic needs between 1 and {MaxPartitions} partitions, got {spec.Partitions}");
        if (spec.ReplicationFactor < 1)
            return (ErrorCode.InvalidReplicationFactor, $"replication factor must be at least 1, got {spec.ReplicationFactor}");
        var configError = TopicConfig.Validate(spec.Configs, _settings);
        return configError is null ? (ErrorCode.None, null) : (ErrorCode.InvalidConfig, configError);
    }

    private void Delete(DeleteTopicsRequest request)
    {
        var results = new TopicResult[request.Topics.Count];
        var events = new List<TopicDeleted>();
        for (var i = 0; i < request.Topics.Count; i++)
        {
            var name = request.Topics[i];
            if (_topics.ContainsKey(name) && !events.Exists(e => e.Name == name))
            {
                events.Add(new TopicDeleted(name));
                results[i] = new TopicResult(name, ErrorCode.None, null);
            }
            else
            {
                results[i] = new TopicResult(name, ErrorCode.UnknownTopic, $"topic '{name}' does not exist; list topics with `broker topics list`");
            }
        }

        var replyTo = Sender;
        var response = new DeleteTopicsResponse(results);
        if (events.Count == 0)
        {
            replyTo.Tell(response);
            return;
        }

        var remaining = events.Count;
        PersistAll(events, e =>
        {
            Apply(e);
            _log.Info("deleted topic {0}", e.Name);
            if (--remaining > 0) return;
            AfterChange();
            replyTo.Tell(response);
        });
    }

    private void Apply(TopicCreated e)
    {
        _topics[e.Topic.Name] = e.Topic;
        _eventsSinceSnapshot++;
    }

    private void Apply(TopicDeleted e)
    {
        _topics.Remove(e.Name);
        _eventsSinceSnapshot++;
    }

    private void AfterChange()
    {
        Publish();
        if (_eventsSinceSnapshot < SnapshotEvery) return;
        _eventsSinceSnapshot = 0;
        SaveSnapshot(Snapshot());
    }

    private TopicsSnapshot Snapshot() => new(_topics.Values.OrderBy(t => t.Name, StringComparer.Ordinal).ToList());

    private void Publish() => _mediator.Tell(new Publish(TopicRegistryTopics.Changes, Snapshot()));
}
