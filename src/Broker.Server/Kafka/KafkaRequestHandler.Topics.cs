using Akka.Event;
using Broker.Kafka;
using Broker.Protocol;
using Broker.Protocol.Messages;
using K = Broker.Kafka.Messages;

namespace Broker.Server.Kafka;

// Metadata, CreateTopics and DeleteTopics: the topic registry's and the metadata store's side of the listener.
internal sealed partial class KafkaRequestHandler
{
    // ---- Metadata

    /// <summary>
    /// The topics asked for (every topic when none are named). With <c>auto-create-topics-enable</c> on and the client
    /// allowing it (v4+'s allow_auto_topic_creation; always before v4), a named topic that does not exist is created with
    /// the node's <c>num-partitions</c> and <c>default-replication-factor</c> and answered LEADER_NOT_AVAILABLE, as Kafka
    /// does: the client asks again once leaders are elected.
    /// </summary>
    private async Task<IKafkaMessage?> MetadataAsync(K.MetadataRequest request, short version)
    {
        List<string>? names = null;
        var unknownIds = new List<Guid>();
        if (request.Topics is { } topics && (version > 0 || topics.Count > 0)) // v0: an empty list means every topic
        {
            names = new List<string>(topics.Count);
            foreach (var t in topics)
            {
                // v10+ may name a topic by id alone (v12: a null name).
                if (t.Name is null && t.TopicId != Guid.Empty)
                {
                    if (await TopicNameAsync(t.TopicId).ConfigureAwait(false) is { } byId) names.Add(byId);
                    else unknownIds.Add(t.TopicId);
                }
                else
                {
                    names.Add(t.Name ?? "");
                }
            }
        }
        var response = new K.MetadataResponse { ClusterId = ClusterId, ControllerId = _nodeId };
        var reply = await AskAsync(new MetadataRequest(names), AskTimeout).ConfigureAwait(false);
        if (reply is not MetadataResponse metadata)
        {
            var failed = new List<K.MetadataResponse.MetadataResponseTopic>();
            foreach (var name in names ?? []) failed.Add(new() { Name = name, ErrorCode = KafkaErrors.From(reply.Error) });
            response.Topics = failed;
            return response;
        }
        LearnTopicIds(metadata);
        var notCreated = new Dictionary<string, ErrorCode>(StringComparer.Ordinal);
        if (_kafka.AutoCreateTopics && (version < 4 || request.AllowAutoTopicCreation)
            && await AutoCreateAsync(metadata, notCreated).ConfigureAwait(false)
            && await AskAsync(new MetadataRequest(names), AskTimeout).ConfigureAwait(false) is MetadataResponse again)
        {
            // Read again, so the new topics come with their ids and partitions (leaders are still being elected).
            metadata = again;
            LearnTopicIds(metadata);
        }

        var brokers = new List<K.MetadataResponse.MetadataResponseBroker>();
        foreach (var b in metadata.Brokers)
        {
            if (b.NodeId < 0 || KafkaEndpoint.Parse(b.Roles) is not { } endpoint) continue;
            brokers.Add(new() { NodeId = b.NodeId, Host = endpoint.Host, Port = endpoint.Port, Rack = null });
        }
        response.Brokers = brokers;

        var topicsOut = new List<K.MetadataResponse.MetadataResponseTopic>(metadata.Topics.Count);
        foreach (var t in metadata.Topics)
        {
            var partitions = new List<K.MetadataResponse.MetadataResponsePartition>(t.Partitions.Count);
            foreach (var p in t.Partitions)
            {
                partitions.Add(new()
                {
                    ErrorCode = PartitionMetadataError(p),
                    PartitionIndex = p.Partition,
                    LeaderId = p.LeaderId,
                    LeaderEpoch = p.LeaderEpoch,
                    ReplicaNodes = p.Replicas,
                    IsrNodes = p.Isr,
                    OfflineReplicas = p.OfflineReplicas,
                });
            }
            topicsOut.Add(new()
            {
                ErrorCode = KafkaErrors.From(notCreated.GetValueOrDefault(t.Name, t.Error)),
                Name = t.Name,
                TopicId = Guid.TryParse(t.TopicId, out var id) ? id : Guid.Empty,
                IsInternal = false,
                Partitions = partitions,
            });
        }
        foreach (var id in unknownIds) topicsOut.Add(new() { ErrorCode = KafkaErrors.UnknownTopicId, Name = null, TopicId = id, Partitions = [] });
        response.Topics = topicsOut;
        return response;
    }

    /// <summary>
    /// Creates the answered topics that do not exist; true when any was (or another client created it meanwhile).
    /// Those that could not be created (an invalid name, too few nodes) are answered with the registry's error.
    /// </summary>
    private async Task<bool> AutoCreateAsync(MetadataResponse metadata, Dictionary<string, ErrorCode> notCreated)
    {
        var specs = new List<TopicSpec>();
        foreach (var t in metadata.Topics)
        {
            if (t.Error == ErrorCode.UnknownTopic) specs.Add(new TopicSpec(t.Name, _kafka.NumPartitions, _kafka.DefaultReplicationFactor, new Dictionary<string, string>()));
        }
        if (specs.Count == 0) return false;
        var reply = await AskAsync(new CreateTopicsRequest(specs), AskTimeout).ConfigureAwait(false);
        if (reply is not CreateTopicsResponse results)
        {
            foreach (var spec in specs) notCreated[spec.Name] = reply.Error;
            return false;
        }
        var any = false;
        foreach (var r in results.Results)
        {
            if (r.Error is ErrorCode.None or ErrorCode.TopicAlreadyExists)
            {
                any = true;
                continue;
            }
            notCreated[r.Name] = r.Error;
            _log.Warning("kafka: could not create topic {0} automatically: {1}", r.Name, r.ErrorMessage ?? r.Error.ToString());
        }
        return any;
    }

    private void LearnTopicIds(MetadataResponse metadata)
    {
        foreach (var t in metadata.Topics)
            if (t.Error == ErrorCode.None && Guid.TryParse(t.TopicId, out var id)) _topicIds.Learn(t.Name, id);
    }

    /// <summary>The name of the topic with this id; asks for every topic's metadata once when the id is not known yet.</summary>
    private async Task<string?> TopicNameAsync(Guid id)
    {
        if (_topicIds.Resolve(id) is { } known) return known;
        if (await AskAsync(new MetadataRequest(null), AskTimeout).ConfigureAwait(false) is MetadataResponse all) LearnTopicIds(all);
        return _topicIds.Resolve(id);
    }

    /// <summary>A partition whose leader did not answer the offsets query still has a leader in the metadata store; one without a leader is LEADER_NOT_AVAILABLE, which clients retry.</summary>
    private static short PartitionMetadataError(PartitionMetadata p) => p.Error switch
    {
        ErrorCode.None => p.LeaderId < 0 ? KafkaErrors.LeaderNotAvailable : KafkaErrors.None,
        ErrorCode.RequestTimedOut => KafkaErrors.LeaderNotAvailable,
        _ => KafkaErrors.From(p.Error),
    };

    // ---- CreateTopics / DeleteTopics

    /// <summary>Kafka's DescribeConfigs source for a config set on the topic (DYNAMIC_TOPIC_CONFIG).</summary>
    private const sbyte TopicConfigSource = 1;

    private async Task<IKafkaMessage?> CreateTopicsAsync(K.CreateTopicsRequest request, short version)
    {
        var refused = new Dictionary<string, (short Error, string Message)>(StringComparer.Ordinal);
        var specs = new List<TopicSpec>();
        foreach (var t in request.Topics)
        {
            if (request.ValidateOnly)
            {
                refused[t.Name] = (KafkaErrors.InvalidRequest, "validate_only is not supported yet: send the request without it");
                continue;
            }
            if (t.Assignments.Count > 0)
            {
                refused[t.Name] = (KafkaErrors.InvalidRequest, "manual replica assignment is not supported: give num_partitions and replication_factor, the broker places replicas");
                continue;
            }
            var configs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var c in t.Configs)
            {
                if (c.Value is not null) configs[c.Name] = c.Value;
            }
            // KIP-464: -1 asks for the broker's defaults (one partition, as Kafka's num.partitions; replication factor min(3, live nodes)).
            specs.Add(new TopicSpec(t.Name, t.NumPartitions == -1 ? 1 : t.NumPartitions, t.ReplicationFactor, configs));
        }

        var created = new Dictionary<string, TopicResult>(StringComparer.Ordinal);
        if (specs.Count > 0)
        {
            var reply = await AskAsync(new CreateTopicsRequest(specs), AskTimeout).ConfigureAwait(false);
            if (reply is CreateTopicsResponse r)
                foreach (var result in r.Results) created[result.Name] = result;
            else
                foreach (var spec in specs) created[spec.Name] = new TopicResult(spec.Name, reply.Error, reply.ErrorMessage);
        }

        // v5+ answer a created topic's partitions, replication factor and configs, v7+ its id: read back from the metadata store.
        var described = new Dictionary<string, TopicMetadata>(StringComparer.Ordinal);
        var createdNames = created.Values.Where(r => r.Error == ErrorCode.None).Select(r => r.Name).ToList();
        if (version >= 5 && createdNames.Count > 0 && await AskAsync(new MetadataRequest(createdNames), AskTimeout).ConfigureAwait(false) is MetadataResponse metadata)
        {
            LearnTopicIds(metadata);
            foreach (var t in metadata.Topics)
                if (t.Error == ErrorCode.None) described[t.Name] = t;
        }

        var results = new List<K.CreateTopicsResponse.CreatableTopicResult>(request.Topics.Count);
        foreach (var t in request.Topics)
        {
            if (refused.TryGetValue(t.Name, out var no))
            {
                results.Add(new() { Name = t.Name, ErrorCode = no.Error, ErrorMessage = no.Message });
            }
            else if (created.TryGetValue(t.Name, out var result))
            {
                var topic = described.GetValueOrDefault(t.Name);
                results.Add(new()
                {
                    Name = t.Name,
                    TopicId = topic is not null && Guid.TryParse(topic.TopicId, out var id) ? id : Guid.Empty,
                    ErrorCode = KafkaErrors.From(result.Error),
                    ErrorMessage = result.ErrorMessage,
                    NumPartitions = topic?.Partitions.Count ?? -1,
                    ReplicationFactor = topic?.ReplicationFactor ?? -1,
                    Configs = topic is null ? null : [.. topic.Configs.Select(c => new K.CreateTopicsResponse.CreatableTopicConfigs
                    {
                        Name = c.Key, Value = c.Value, ReadOnly = false, ConfigSource = TopicConfigSource, IsSensitive = false,
                    })],
                });
            }
            else
            {
                results.Add(new() { Name = t.Name, ErrorCode = KafkaErrors.UnknownServerError, ErrorMessage = "the topic registry did not answer for this topic" });
            }
        }
        return new K.CreateTopicsResponse { Topics = results };
    }

    private async Task<IKafkaMessage?> DeleteTopicsAsync(K.DeleteTopicsRequest request, short version)
    {
        // v6+ name each topic by name or by id; before, by name only.
        var wanted = new List<(string? Name, Guid Id)>();
        if (version >= 6)
            foreach (var t in request.Topics) wanted.Add((t.Name ?? (t.TopicId == Guid.Empty ? null : await TopicNameAsync(t.TopicId).ConfigureAwait(false)), t.TopicId));
        else
            foreach (var name in request.TopicNames) wanted.Add((name, Guid.Empty));

        var names = wanted.Where(w => w.Name is not null).Select(w => w.Name!).ToList();
        var byName = new Dictionary<string, TopicResult>(StringComparer.Ordinal);
        IBrokerResponse reply = new DeleteTopicsResponse([]);
        if (names.Count > 0)
        {
            reply = await AskAsync(new DeleteTopicsRequest(names), AskTimeout).ConfigureAwait(false);
            if (reply is DeleteTopicsResponse r)
                foreach (var result in r.Results) byName[result.Name] = result;
        }
        var results = new List<K.DeleteTopicsResponse.DeletableTopicResult>(wanted.Count);
        foreach (var (name, id) in wanted)
        {
            if (name is null)
            {
                results.Add(new() { Name = null, TopicId = id, ErrorCode = KafkaErrors.UnknownTopicId, ErrorMessage = $"no topic has id {id}" });
                continue;
            }
            var error = byName.TryGetValue(name, out var result) ? result.Error : reply.Error == ErrorCode.None ? ErrorCode.Unknown : reply.Error;
            results.Add(new()
            {
                Name = name,
                TopicId = id != Guid.Empty ? id : _topicIds.IdOf(name),
                ErrorCode = KafkaErrors.From(error),
                ErrorMessage = result?.ErrorMessage ?? reply.ErrorMessage,
            });
        }
        return new K.DeleteTopicsResponse { Responses = results };
    }
}
