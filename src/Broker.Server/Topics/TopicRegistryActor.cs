using System.Globalization;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.DistributedData;
using Akka.Event;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Membership;
using Broker.Server.Metadata;

namespace Broker.Server.Topics;

/// <summary>
/// Creates and deletes topics: a cluster singleton, so that one actor validates names and places replicas
/// at a time. It keeps no state of its own: the topic table lives in the metadata store (Distributed Data,
/// majority writes, durable on every node), and every decision starts from a majority read, so a registry
/// that starts on another node never acts on a stale or empty view. It republishes the live topic list on
/// distributed pub-sub (<see cref="TopicRegistryTopics.Changes"/>) whenever the table changes, for the
/// group coordinators.
///
/// States: Loading (majority read; requests stashed) -> Active. Requests are handled one at a time
/// (stashed while one is being written), so two creates of one name cannot both succeed.
/// </summary>
public sealed class TopicRegistryActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    private const int MaxPartitions = 10_000;

    private readonly BrokerSettings _settings;
    private readonly MetadataStore _store;
    private readonly IActorRef _mediator;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ActorSystem _system = Context.System;
    private TopicTable _topics = TopicTable.Empty;

    public TopicRegistryActor(BrokerSettings settings)
    {
        _settings = settings;
        _store = new MetadataStore(Context.System, settings.MetadataTimeout);
        _mediator = DistributedPubSub.Get(Context.System).Mediator;
        Loading();
    }

    public IStash Stash { get; set; } = null!;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(BrokerSettings settings) => Akka.Actor.Props.Create(() => new TopicRegistryActor(settings));

    protected override void PreStart() => _subscription = _store.SubscribeTopics(Self);

    protected override void PostStop() => _subscription?.Dispose();

    private IDisposable? _subscription;

    private void Loading()
    {
        _store.TopicsAsync(majority: true).PipeTo(Self, success: t => new Loaded(t));
        Become(() =>
        {
            Receive<Loaded>(loaded =>
            {
                _topics = _topics.Merge(loaded.Topics);
                _log.Info("topic registry loaded {0} topics from a majority of nodes", _topics.Live.Count());
                Publish();
                Become(Active);
                Stash.UnstashAll();
            });
            Receive<Status.Failure>(f =>
            {
                _log.Warning("topic registry: {0}; retrying", f.Cause.Message);
                Timers.StartSingleTimer(RetryLoad.Instance, RetryLoad.Instance, TimeSpan.FromSeconds(1));
            });
            Receive<RetryLoad>(_ => _store.TopicsAsync(majority: true).PipeTo(Self, success: t => new Loaded(t)));
            Receive<Changed>(OnChanged);
            Receive<TopicTable>(OnCommitted);
            ReceiveAny(_ => Stash.Stash());
        });
    }

    private void Active()
    {
        Receive<CreateTopicsRequest>(r => Write(r, Sender, CreateAsync(r)));
        Receive<DeleteTopicsRequest>(r => Write(r, Sender, DeleteAsync(r)));
        Receive<ReassignPartitionsRequest>(r => Write(r, Sender, ReassignAsync(r)));
        Receive<AlterTopicConfigsRequest>(r => Write(r, Sender, AlterConfigsAsync(r)));
        Receive<CreatePartitionsRequest>(r => Write(r, Sender, CreatePartitionsAsync(r)));
        Receive<CheckReassignments>(_ =>
        {
            if (_topics.Live.Any(t => t.Reassigning.Count > 0)) Write(null, ActorRefs.Nobody, CompleteReassignmentsAsync());
        });
        Receive<GetAllTopics>(_ => Sender.Tell(Snapshot()));
        Receive<Changed>(OnChanged);
        Receive<TopicTable>(OnCommitted);
        Timers.StartPeriodicTimer(CheckReassignments.Instance, CheckReassignments.Instance, TimeSpan.FromSeconds(1));
    }

    /// <summary>Runs one write to the store; further requests wait until it is done.</summary>
    private void Write(IBrokerRequest? request, IActorRef replyTo, Task<(IBrokerResponse Response, List<TopicEntry> Written)> work)
    {
        work.PipeTo(Self, success: r => new WriteDone(r.Response, replyTo, r.Written), failure: ex => new WriteDone(
            new ErrorResponse(ErrorCode.RequestTimedOut, $"{ex.Message}; the topic change may or may not have been applied: check with `broker topics list`"), replyTo, []));
        Become(() =>
        {
            Receive<WriteDone>(done =>
            {
                // What was just written counts at once (the store's change notification comes ~100 ms later):
                // a coordinator asking for the topics right after a create must see the new topic.
                foreach (var entry in done.Written) _topics = _topics.Put(entry.Topic.Name, entry);
                if (done.Written.Count > 0) Publish();
                if (!done.ReplyTo.IsNobody()) done.ReplyTo.Tell(done.Response);
                Become(Active);
                Stash.UnstashAll();
            });
            Receive<Changed>(OnChanged);
            Receive<TopicTable>(OnCommitted);
            Receive<CheckReassignments>(_ => { }); // the next tick comes soon enough
            ReceiveAny(_ => Stash.Stash());
        });
    }

    private void OnChanged(Changed changed)
    {
        if (changed.Key.Equals(MetadataKeys.Topics)) OnCommitted(changed.Get(MetadataKeys.Topics));
    }

    /// <summary>The table changed in the store (Distributed Data's <c>Changed</c>, or a committed quorum entry).</summary>
    private void OnCommitted(TopicTable table)
    {
        _topics = _topics.Merge(table);
        Publish();
    }

    private async Task<(IBrokerResponse, List<TopicEntry>)> CreateAsync(CreateTopicsRequest request)
    {
        var topics = (await _store.TopicsAsync(majority: true).ConfigureAwait(false)).Merge(_topics);
        var live = LiveNodes.Of(_system);
        var results = new TopicResult[request.Topics.Count];
        var created = new List<TopicEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < request.Topics.Count; i++)
        {
            var spec = request.Topics[i];
            var (error, message) = ValidateCreate(spec, topics, seen, live.Count);
            results[i] = new TopicResult(spec.Name, error, message);
            if (error != ErrorCode.None) continue;
            seen.Add(spec.Name);
            var rf = spec.ReplicationFactor > 0 ? spec.ReplicationFactor : (short)Math.Min(3, live.Count);
            var assignments = ReplicaAssigner.Assign(live.Ids.ToList(), spec.Partitions, rf, Random.Shared.Next(live.Count));
            var configs = new Dictionary<string, string>(spec.Configs, StringComparer.Ordinal);
            var descriptor = new TopicDescriptor(spec.Name, Guid.NewGuid().ToString("N"), spec.Partitions, rf, configs, assignments);
            created.Add(new TopicEntry(descriptor, (topics.Get(spec.Name)?.Version ?? 0) + 1, Deleted: false));
        }
        if (created.Count == 0) return (new CreateTopicsResponse(results), created);

        // Partition states first: a node that sees the topic finds its leaders and ISRs already there.
        await _store.UpdatePartitionsAsync(table =>
        {
            foreach (var entry in created)
            {
                for (var p = 0; p < entry.Topic.Partitions; p++)
                {
                    table = table.Put(PartitionStateTable.KeyOf(entry.Topic.TopicId, p),
                        new PartitionState(0, 0, PartitionState.NoLeader, entry.Topic.ReplicasOf(p)));
                }
            }

            return table;
        }).ConfigureAwait(false);
        await _store.UpdateTopicsAsync(table =>
        {
            foreach (var entry in created) table = table.Put(entry.Topic.Name, entry);
            return table;
        }).ConfigureAwait(false);
        foreach (var entry in created)
        {
            _log.Info("created topic {0} ({1}) with {2} partitions, replication factor {3}, replicas {4}", entry.Topic.Name, entry.Topic.TopicId,
                entry.Topic.Partitions, entry.Topic.ReplicationFactor, string.Join(" ", entry.Topic.Assignments.Select(a => "[" + string.Join(",", a) + "]")));
        }

        return (new CreateTopicsResponse(results), created);
    }

    private (ErrorCode, string?) ValidateCreate(TopicSpec spec, TopicTable topics, HashSet<string> seenInRequest, int liveNodes)
    {
        var nameError = TopicConfig.ValidateName(spec.Name);
        if (nameError is not null) return (ErrorCode.InvalidTopic, nameError);
        if (topics.Find(spec.Name) is not null || seenInRequest.Contains(spec.Name))
            return (ErrorCode.TopicAlreadyExists, $"topic '{spec.Name}' already exists; describe it with `broker topics describe {spec.Name}`");
        if (spec.Partitions < 1 || spec.Partitions > MaxPartitions)
            return (ErrorCode.InvalidPartitions, $"a topic needs between 1 and {MaxPartitions} partitions, got {spec.Partitions}");
        if (spec.ReplicationFactor == 0 || spec.ReplicationFactor < -1)
            return (ErrorCode.InvalidReplicationFactor, $"replication factor must be at least 1 (or -1 for the default, min(3, live nodes)), got {spec.ReplicationFactor}");
        if (spec.ReplicationFactor > liveNodes)
            return (ErrorCode.InvalidReplicationFactor, $"replication factor {spec.ReplicationFactor} is larger than the {liveNodes} live node(s); start more nodes or ask for fewer replicas");
        var configError = TopicConfig.Validate(spec.Configs, _settings);
        if (configError is not null) return (ErrorCode.InvalidConfig, configError);
        var rf = spec.ReplicationFactor > 0 ? spec.ReplicationFactor : Math.Min(3, liveNodes);
        if (spec.Configs.TryGetValue(TopicConfig.MinInsyncReplicasKey, out var minIsr) && int.Parse(minIsr, CultureInfo.InvariantCulture) > rf)
            return (ErrorCode.InvalidConfig, $"{TopicConfig.MinInsyncReplicasKey}={minIsr} is larger than the replication factor {rf}; acks=all produces could never succeed");
        return (ErrorCode.None, null);
    }

    private async Task<(IBrokerResponse, List<TopicEntry>)> DeleteAsync(DeleteTopicsRequest request)
    {
        var topics = (await _store.TopicsAsync(majority: true).ConfigureAwait(false)).Merge(_topics);
        var results = new TopicResult[request.Topics.Count];
        var tombstones = new List<TopicEntry>();
        for (var i = 0; i < request.Topics.Count; i++)
        {
            var name = request.Topics[i];
            var entry = topics.Get(name);
            if (entry is { Deleted: false } && !tombstones.Exists(t => t.Topic.Name == name))
            {
                tombstones.Add(entry with { Version = entry.Version + 1, Deleted = true });
                results[i] = new TopicResult(name, ErrorCode.None, null);
            }
            else
            {
                results[i] = new TopicResult(name, ErrorCode.UnknownTopic, $"topic '{name}' does not exist; list topics with `broker topics list`");
            }
        }
        if (tombstones.Count == 0) return (new DeleteTopicsResponse(results), tombstones);
        await _store.UpdateTopicsAsync(table =>
        {
            foreach (var t in tombstones) table = table.Put(t.Topic.Name, t);
            return table;
        }).ConfigureAwait(false);
        foreach (var t in tombstones) _log.Info("deleted topic {0} ({1})", t.Topic.Name, t.Topic.TopicId);
        return (new DeleteTopicsResponse(results), tombstones);
    }

    private async Task<(IBrokerResponse, List<TopicEntry>)> AlterConfigsAsync(AlterTopicConfigsRequest request)
    {
        var topics = (await _store.TopicsAsync(majority: true).ConfigureAwait(false)).Merge(_topics);
        var results = new TopicResult[request.Topics.Count];
        var changed = new Dictionary<string, TopicEntry>(StringComparer.Ordinal);
        for (var i = 0; i < request.Topics.Count; i++)
        {
            var alteration = request.Topics[i];
            var entry = changed.GetValueOrDefault(alteration.Topic) ?? topics.Get(alteration.Topic);
            if (entry is not { Deleted: false })
            {
                results[i] = new TopicResult(alteration.Topic, ErrorCode.UnknownTopic, ErrorText.UnknownTopic(alteration.Topic));
                continue;
            }
            var configs = TopicConfig.Apply(entry.Topic.Configs, alteration.Changes);
            var error = TopicConfig.Validate(configs, _settings) ?? TopicConfig.ValidateMinInsyncReplicas(configs, entry.Topic.ReplicationFactor);
            results[i] = new TopicResult(alteration.Topic, TopicConfig.ErrorFor(error), error);
            if (error is not null || request.ValidateOnly) continue;
            changed[alteration.Topic] = entry with { Topic = entry.Topic with { Configs = configs }, Version = entry.Version + 1 };
            _log.Info("topic {0} configs are now {1}", alteration.Topic, string.Join(", ", configs.Select(c => $"{c.Key}={c.Value}")));
        }
        var written = changed.Values.ToList();
        if (written.Count > 0)
        {
            await _store.UpdateTopicsAsync(table =>
            {
                foreach (var entry in written) table = table.Put(entry.Topic.Name, entry);
                return table;
            }).ConfigureAwait(false);
        }
        return (new AlterTopicConfigsResponse(results), written);
    }

    private async Task<(IBrokerResponse, List<TopicEntry>)> CreatePartitionsAsync(CreatePartitionsRequest request)
    {
        var topics = (await _store.TopicsAsync(majority: true).ConfigureAwait(false)).Merge(_topics);
        var live = LiveNodes.Of(_system);
        var results = new TopicResult[request.Topics.Count];
        var grown = new List<(TopicEntry Entry, int From)>();
        for (var i = 0; i < request.Topics.Count; i++)
        {
            var (name, count) = request.Topics[i];
            var entry = topics.Get(name);
            var (error, message) = entry is not { Deleted: false } ? (ErrorCode.UnknownTopic, ErrorText.UnknownTopic(name))
                : grown.Exists(g => g.Entry.Topic.Name == name) ? (ErrorCode.InvalidRequest, $"topic '{name}' is named twice in one request")
                : ValidatePartitionCount(entry.Topic, count, live.Count);
            results[i] = new TopicResult(name, error, message);
            if (error != ErrorCode.None || request.ValidateOnly) continue;
            var topic = entry!.Topic;
            // The new partitions are placed as a new topic's would be; the existing ones stay where they are.
            var added = ReplicaAssigner.Assign(live.Ids.ToList(), count - topic.Partitions, topic.ReplicationFactor, Random.Shared.Next(live.Count));
            var grownTopic = topic with { Partitions = count, Assignments = [.. topic.Assignments, .. added] };
            grown.Add((entry with { Topic = grownTopic, Version = entry.Version + 1 }, topic.Partitions));
        }
        if (grown.Count == 0) return (new CreatePartitionsResponse(results), []);

        // Partition states first, as for a new topic: a node that sees the new partitions finds their states there.
        await _store.UpdatePartitionsAsync(table =>
        {
            foreach (var (entry, from) in grown)
            {
                for (var p = from; p < entry.Topic.Partitions; p++)
                    table = table.Put(PartitionStateTable.KeyOf(entry.Topic.TopicId, p), new PartitionState(0, 0, PartitionState.NoLeader, entry.Topic.ReplicasOf(p)));
            }
            return table;
        }).ConfigureAwait(false);
        await _store.UpdateTopicsAsync(table =>
        {
            foreach (var (entry, _) in grown) table = table.Put(entry.Topic.Name, entry);
            return table;
        }).ConfigureAwait(false);
        foreach (var (entry, from) in grown)
        {
            _log.Info("topic {0} grew from {1} to {2} partitions, new replicas {3}", entry.Topic.Name, from, entry.Topic.Partitions,
                string.Join(" ", entry.Topic.Assignments.Skip(from).Select(a => "[" + string.Join(",", a) + "]")));
        }
        return (new CreatePartitionsResponse(results), [.. grown.Select(g => g.Entry)]);
    }

    /// <summary>Kafka's rules and messages for CreatePartitions: only more partitions, within the limit, with enough live nodes for the replicas, and not while partitions move.</summary>
    private static (ErrorCode, string?) ValidatePartitionCount(TopicDescriptor topic, int count, int liveNodes)
    {
        if (count < topic.Partitions)
            return (ErrorCode.InvalidPartitions, $"topic '{topic.Name}' has {topic.Partitions} partitions, more than the requested {count}; partitions cannot be removed");
        if (count == topic.Partitions)
            return (ErrorCode.InvalidPartitions, $"topic '{topic.Name}' already has {count} partitions");
        if (count > MaxPartitions)
            return (ErrorCode.InvalidPartitions, $"a topic can have at most {MaxPartitions} partitions, got {count}");
        if (topic.ReplicationFactor > liveNodes)
            return (ErrorCode.InvalidReplicationFactor, $"the new partitions need {topic.ReplicationFactor} replicas but {liveNodes} node(s) are live");
        if (topic.Reassigning.Count > 0)
            return (ErrorCode.ReassignmentInProgress, $"partitions of '{topic.Name}' are being reassigned; add partitions once that is done");
        return (ErrorCode.None, null);
    }

    private async Task<(IBrokerResponse, List<TopicEntry>)> ReassignAsync(ReassignPartitionsRequest request)
    {
        var topics = (await _store.TopicsAsync(majority: true).ConfigureAwait(false)).Merge(_topics);
        var live = LiveNodes.Of(_system);
        var results = new ReassignmentResult[request.Partitions.Count];
        var changed = new Dictionary<string, TopicEntry>(StringComparer.Ordinal);
        for (var i = 0; i < request.Partitions.Count; i++)
        {
            var move = request.Partitions[i];
            var entry = changed.GetValueOrDefault(move.Topic) ?? topics.Get(move.Topic);
            if (entry is not { Deleted: false })
            {
                results[i] = new ReassignmentResult(move.Topic, move.Partition, ErrorCode.UnknownTopic, ErrorText.UnknownTopic(move.Topic));
                continue;
            }
            var (error, message) = Reassignments.Validate(entry.Topic, move.Partition, move.Replicas, live.IsAlive);
            results[i] = new ReassignmentResult(move.Topic, move.Partition, error, message);
            if (error != ErrorCode.None) continue;
            var before = entry.Topic.ReplicasOf(move.Partition);
            var topic = Reassignments.Begin(entry.Topic, move.Partition, move.Replicas);
            changed[move.Topic] = entry with { Topic = topic, Version = (changed.ContainsKey(move.Topic) ? entry.Version : entry.Version + 1) };
            _log.Info("reassigning {0}/{1}: replicas [{2}] -> [{3}]", move.Topic, move.Partition, string.Join(",", before), string.Join(",", move.Replicas));
        }
        if (changed.Count == 0) return (new ReassignPartitionsResponse(results), []);
        var written = changed.Values.ToList();
        await _store.UpdateTopicsAsync(table =>
        {
            foreach (var entry in written) table = table.Put(entry.Topic.Name, entry);
            return table;
        }).ConfigureAwait(false);
        return (new ReassignPartitionsResponse(results), written);
    }

    /// <summary>Second phase of every move whose new replicas are in sync (see <see cref="Reassignments"/>).</summary>
    private async Task<(IBrokerResponse, List<TopicEntry>)> CompleteReassignmentsAsync()
    {
        var topics = (await _store.TopicsAsync(majority: true).ConfigureAwait(false)).Merge(_topics);
        var states = await _store.PartitionsAsync(majority: true).ConfigureAwait(false);
        var written = new List<TopicEntry>();
        foreach (var entry in topics.Entries.Values)
        {
            if (entry.Deleted || Reassignments.TryComplete(entry.Topic, states, out var completed) is not { } topic) continue;
            written.Add(entry with { Topic = topic, Version = entry.Version + 1 });
            foreach (var p in completed)
                _log.Info("reassignment of {0}/{1} complete: replicas are now [{2}]", topic.Name, p, string.Join(",", topic.ReplicasOf(p)));
        }
        if (written.Count > 0)
        {
            await _store.UpdateTopicsAsync(table =>
            {
                foreach (var entry in written) table = table.Put(entry.Topic.Name, entry);
                return table;
            }).ConfigureAwait(false);
        }

        return (new ReassignPartitionsResponse([]), written);
    }

    private TopicsSnapshot Snapshot() => new(_topics.Live.ToList());

    private void Publish() => _mediator.Tell(new Publish(TopicRegistryTopics.Changes, Snapshot()));

    private sealed record WriteDone(IBrokerResponse Response, IActorRef ReplyTo, List<TopicEntry> Written);

    private sealed record Loaded(TopicTable Topics);

    private sealed record RetryLoad
    {
        public static readonly RetryLoad Instance = new();
    }

    private sealed record CheckReassignments
    {
        public static readonly CheckReassignments Instance = new();
    }
}
