using System.Globalization;
using Broker.Kafka;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Topics;
using K = Broker.Kafka.Messages;

namespace Broker.Server.Kafka;

// The admin APIs Kafka's tools and UIs use (issue 15): describing the cluster and configs, and partition reassignments
// on top of the topic registry's (`broker partitions reassign`).
internal sealed partial class KafkaRequestHandler
{
    // Kafka's config resource types and config sources (DescribeConfigs, IncrementalAlterConfigs).
    private const sbyte TopicResource = 2;
    private const sbyte BrokerResource = 4;
    private const sbyte StaticBrokerConfigSource = 4;
    private const sbyte DefaultConfigSource = 5;

    // Kafka's ConfigType (DescribeConfigs v3+).
    private const sbyte BooleanConfig = 1;
    private const sbyte StringConfig = 2;
    private const sbyte IntConfig = 3;
    private const sbyte ShortConfig = 4;
    private const sbyte LongConfig = 5;

    // ---- DescribeCluster

    private async Task<IKafkaMessage?> DescribeClusterAsync(K.DescribeClusterRequest request)
    {
        // v1: endpoint type 2 asks for the controllers (KIP-919); this cluster has no separate controllers.
        if (request.EndpointType != 1)
            return new K.DescribeClusterResponse { ErrorCode = KafkaErrors.UnsupportedEndpointType, ErrorMessage = "only brokers (endpoint type 1) can be described", EndpointType = request.EndpointType, ClusterId = ClusterId, Brokers = [] };
        var reply = await AskAsync(new MetadataRequest([]), AskTimeout).ConfigureAwait(false);
        if (reply is not MetadataResponse metadata)
            return new K.DescribeClusterResponse { ErrorCode = KafkaErrors.From(reply.Error), ErrorMessage = reply.ErrorMessage, ClusterId = ClusterId, Brokers = [] };
        var brokers = new List<K.DescribeClusterResponse.DescribeClusterBroker>();
        foreach (var b in metadata.Brokers)
        {
            if (b.NodeId < 0 || KafkaEndpoint.Parse(b.Roles) is not { } endpoint) continue;
            brokers.Add(new() { BrokerId = b.NodeId, Host = endpoint.Host, Port = endpoint.Port, Rack = null });
        }
        // Every node answers for the cluster (as in Metadata, where it names itself the controller).
        return new K.DescribeClusterResponse { ErrorCode = KafkaErrors.None, EndpointType = 1, ClusterId = ClusterId, ControllerId = _nodeId, Brokers = brokers };
    }

    // ---- ElectLeaders (KIP-460)

    /// <summary>
    /// Each partition's election decided by Kafka's rules (<see cref="ElectionDecision.For"/>) from the metadata, and
    /// carried out by <see cref="ILeaderElector"/>. No partitions named (null) means every partition, as Kafka reads it.
    /// </summary>
    private async Task<IKafkaMessage?> ElectLeadersAsync(K.ElectLeadersRequest request, short version)
    {
        var rawType = version >= 1 ? request.ElectionType : (sbyte)ElectionType.Preferred;
        if (rawType is not ((sbyte)ElectionType.Preferred or (sbyte)ElectionType.Unclean))
        {
            // Kafka fails the whole request: the type applies to every partition.
            return new K.ElectLeadersResponse { ErrorCode = KafkaErrors.InvalidRequest, ReplicaElectionResults = [] };
        }
        var type = (ElectionType)rawType;
        var names = request.TopicPartitions?.Select(t => t.Topic).Distinct(StringComparer.Ordinal).ToList();
        var reply = await AskAsync(new MetadataRequest(names), AskTimeout).ConfigureAwait(false);
        var metadata = reply as MetadataResponse;
        var wanted = request.TopicPartitions?.Select(t => (t.Topic, (IReadOnlyList<int>)t.Partitions)).ToList()
            ?? [.. (metadata?.Topics ?? []).Select(t => (t.Name, (IReadOnlyList<int>)[.. t.Partitions.Select(p => p.Partition)]))];
        var live = new HashSet<int>((metadata?.Brokers ?? []).Where(b => b.Status == "Up").Select(b => b.NodeId));

        var results = new List<K.ElectLeadersResponse.ReplicaElectionResult>();
        foreach (var (topic, partitions) in wanted)
        {
            var described = metadata?.Topics.FirstOrDefault(t => t.Name == topic && t.Error == ErrorCode.None);
            var outcomes = new List<K.ElectLeadersResponse.PartitionResult>();
            foreach (var partition in partitions)
            {
                var (code, message) = metadata is null ? (KafkaErrors.From(reply.Error), reply.ErrorMessage)
                    : described?.Partitions.FirstOrDefault(p => p.Partition == partition) is not { } p
                        ? (KafkaErrors.UnknownTopicOrPartition, $"{topic}-{partition} does not exist")
                        : await ElectAsync(type, topic, p, live.Contains).ConfigureAwait(false);
                outcomes.Add(new() { PartitionId = partition, ErrorCode = code, ErrorMessage = code == KafkaErrors.None ? null : message });
            }
            results.Add(new() { Topic = topic, PartitionResults = outcomes });
        }
        return new K.ElectLeadersResponse { ErrorCode = KafkaErrors.None, ReplicaElectionResults = results };
    }

    private async Task<(short, string?)> ElectAsync(ElectionType type, string topic, PartitionMetadata p, Func<int, bool> isAlive)
    {
        switch (ElectionDecision.For(type, p.LeaderId, p.Replicas, p.Isr, isAlive))
        {
            case ElectionDecision.NotNeeded notNeeded:
                return (KafkaErrors.ElectionNotNeeded, notNeeded.Message);
            case ElectionDecision.NotPossible notPossible:
                return (notPossible.ErrorCode, notPossible.Message);
            case ElectionDecision.MoveTo move:
                var refused = await _leaderElector.ElectAsync(topic, p.Partition, move.Replica, type).ConfigureAwait(false);
                return refused is { } r ? (r.ErrorCode, r.Message) : (KafkaErrors.None, null);
            default:
                throw new InvalidOperationException("unknown election decision");
        }
    }

    // ---- DescribeConfigs

    /// <summary>
    /// Topic configs: every key the broker knows (<see cref="TopicConfig.KnownKeys"/>), set on the topic
    /// (DYNAMIC_TOPIC_CONFIG) or the node's default (DEFAULT_CONFIG), as Kafka lists them. Broker configs: the
    /// node's own settings under Kafka's names, read-only (STATIC_BROKER_CONFIG).
    /// </summary>
    private async Task<IKafkaMessage?> DescribeConfigsAsync(K.DescribeConfigsRequest request, short version)
    {
        var topicNames = request.Resources.Where(r => r.ResourceType == TopicResource).Select(r => r.ResourceName).Distinct(StringComparer.Ordinal).ToList();
        var topics = new Dictionary<string, TopicMetadata>(StringComparer.Ordinal);
        IBrokerResponse? failed = null;
        if (topicNames.Count > 0)
        {
            var reply = await AskAsync(new MetadataRequest(topicNames), AskTimeout).ConfigureAwait(false);
            if (reply is MetadataResponse metadata)
                foreach (var t in metadata.Topics) topics[t.Name] = t;
            else
                failed = reply;
        }

        var results = new List<K.DescribeConfigsResponse.DescribeConfigsResult>(request.Resources.Count);
        foreach (var resource in request.Resources)
        {
            var result = new K.DescribeConfigsResponse.DescribeConfigsResult { ResourceType = resource.ResourceType, ResourceName = resource.ResourceName, Configs = [] };
            results.Add(result);
            List<(string Name, string Value, sbyte Source, sbyte Type, bool ReadOnly)> entries;
            switch (resource.ResourceType)
            {
                case TopicResource:
                    if (failed is not null)
                    {
                        (result.ErrorCode, result.ErrorMessage) = (KafkaErrors.From(failed.Error), failed.ErrorMessage);
                        continue;
                    }
                    if (!topics.TryGetValue(resource.ResourceName, out var topic) || topic.Error != ErrorCode.None)
                    {
                        (result.ErrorCode, result.ErrorMessage) = (KafkaErrors.UnknownTopicOrPartition, ErrorText.UnknownTopic(resource.ResourceName));
                        continue;
                    }
                    entries = TopicConfigEntries(topic);
                    break;
                case BrokerResource:
                    // "" is the cluster-wide default; otherwise a node id, and each node answers for itself, as in Kafka.
                    if (resource.ResourceName.Length > 0 && resource.ResourceName != _nodeId.ToString(CultureInfo.InvariantCulture))
                    {
                        (result.ErrorCode, result.ErrorMessage) = (KafkaErrors.InvalidRequest, $"this is node {_nodeId}; ask node {resource.ResourceName} for its configs");
                        continue;
                    }
                    entries = BrokerConfigEntries();
                    break;
                default:
                    (result.ErrorCode, result.ErrorMessage) = (KafkaErrors.InvalidRequest, $"resource type {resource.ResourceType} is not supported: describe topics (2) or brokers (4)");
                    continue;
            }
            var configs = new List<K.DescribeConfigsResponse.DescribeConfigsResourceResult>(entries.Count);
            result.Configs = configs;
            foreach (var (name, value, source, type, readOnly) in entries)
            {
                if (resource.ConfigurationKeys is { } keys && !keys.Contains(name)) continue;
                configs.Add(new()
                {
                    Name = name, Value = value, ReadOnly = readOnly, IsDefault = source == DefaultConfigSource, ConfigSource = source, IsSensitive = false,
                    Synonyms = request.IncludeSynonyms ? [new() { Name = name, Value = value, Source = source }] : [],
                    ConfigType = type,
                    Documentation = null,
                });
            }
        }
        return new K.DescribeConfigsResponse { Results = results };
    }

    private List<(string, string, sbyte, sbyte, bool)> TopicConfigEntries(TopicMetadata topic)
    {
        var defaults = TopicConfig.Defaults(_settings, topic.ReplicationFactor);
        var entries = new List<(string, string, sbyte, sbyte, bool)>(TopicConfig.KnownKeys.Count);
        foreach (var key in TopicConfig.KnownKeys)
        {
            var set = topic.Configs.TryGetValue(key, out var value);
            entries.Add((key, set ? value! : defaults[key], set ? TopicConfigSource : DefaultConfigSource, ConfigTypeOf(key), false));
        }
        return entries;
    }

    /// <summary>Kafka's ConfigDef type of each topic config (DescribeConfigs v3+).</summary>
    internal static sbyte ConfigTypeOf(string key) => key switch
    {
        TopicConfig.RetentionMsKey or TopicConfig.RetentionBytesKey or TopicConfig.TimestampBeforeMaxMsKey or TopicConfig.TimestampAfterMaxMsKey => LongConfig,
        TopicConfig.UncleanLeaderElectionKey => BooleanConfig,
        TopicConfig.TimestampTypeKey => StringConfig,
        _ => IntConfig,
    };

    /// <summary>The node's settings under Kafka's broker config names.</summary>
    private List<(string, string, sbyte, sbyte, bool)> BrokerConfigEntries() =>
    [
        ("node.id", _nodeId.ToString(CultureInfo.InvariantCulture), StaticBrokerConfigSource, IntConfig, true),
        ("log.retention.ms", _settings.DefaultRetentionMs.ToString(CultureInfo.InvariantCulture), StaticBrokerConfigSource, LongConfig, true),
        ("log.retention.bytes", _settings.DefaultRetentionBytes.ToString(CultureInfo.InvariantCulture), StaticBrokerConfigSource, LongConfig, true),
        ("message.max.bytes", _settings.DefaultMaxMessageBytes.ToString(CultureInfo.InvariantCulture), StaticBrokerConfigSource, IntConfig, true),
        ("num.partitions", _kafka.NumPartitions.ToString(CultureInfo.InvariantCulture), StaticBrokerConfigSource, IntConfig, true),
        ("default.replication.factor", _kafka.DefaultReplicationFactor.ToString(CultureInfo.InvariantCulture), StaticBrokerConfigSource, ShortConfig, true),
        ("auto.create.topics.enable", _kafka.AutoCreateTopics ? "true" : "false", StaticBrokerConfigSource, BooleanConfig, true),
    ];

    // ---- IncrementalAlterConfigs

    /// <summary>
    /// Topic configs change key by key through the topic registry (SET and DELETE; APPEND and SUBTRACT are for list
    /// configs, which topics here do not have). Broker configs are read-only: they come from the node's HOCON.
    /// </summary>
    private async Task<IKafkaMessage?> IncrementalAlterConfigsAsync(K.IncrementalAlterConfigsRequest request)
    {
        var refused = new Dictionary<int, (short Error, string Message)>();
        var alterations = new List<(int Index, TopicConfigAlteration Alteration)>();
        for (var i = 0; i < request.Resources.Count; i++)
        {
            var resource = request.Resources[i];
            if (resource.ResourceType == BrokerResource)
            {
                refused[i] = (KafkaErrors.InvalidConfig, "broker configs are read-only here: set them in the node's HOCON (hocon/node.conf) and restart it");
                continue;
            }
            if (resource.ResourceType != TopicResource)
            {
                refused[i] = (KafkaErrors.InvalidRequest, $"resource type {resource.ResourceType} is not supported: alter topics (2)");
                continue;
            }
            var changes = new List<TopicConfigChange>(resource.Configs.Count);
            foreach (var c in resource.Configs)
            {
                if (c.ConfigOperation is not (0 or 1))
                {
                    refused[i] = (KafkaErrors.InvalidConfig, $"{c.Name}: operation {c.ConfigOperation} (APPEND/SUBTRACT) applies to list configs only; use SET (0) or DELETE (1)");
                    break;
                }
                changes.Add(new TopicConfigChange(c.Name, c.ConfigOperation == 0 ? ConfigOperation.Set : ConfigOperation.Delete, c.Value));
            }
            if (!refused.ContainsKey(i)) alterations.Add((i, new TopicConfigAlteration(resource.ResourceName, changes)));
        }

        var answered = new Dictionary<int, TopicResult>();
        if (alterations.Count > 0)
        {
            var reply = await AskAsync(new AlterTopicConfigsRequest([.. alterations.Select(a => a.Alteration)], request.ValidateOnly), AskTimeout).ConfigureAwait(false);
            for (var j = 0; j < alterations.Count; j++)
            {
                answered[alterations[j].Index] = reply is AlterTopicConfigsResponse r && r.Results.Count == alterations.Count
                    ? r.Results[j]
                    : new TopicResult(alterations[j].Alteration.Topic, reply.Error == ErrorCode.None ? ErrorCode.Unknown : reply.Error, reply.ErrorMessage);
            }
        }
        var responses = new List<K.IncrementalAlterConfigsResponse.AlterConfigsResourceResponse>(request.Resources.Count);
        for (var i = 0; i < request.Resources.Count; i++)
        {
            var resource = request.Resources[i];
            var (error, message) = refused.TryGetValue(i, out var no) ? no : (KafkaErrors.From(answered[i].Error), answered[i].ErrorMessage);
            responses.Add(new() { ErrorCode = error, ErrorMessage = message, ResourceType = resource.ResourceType, ResourceName = resource.ResourceName });
        }
        return new K.IncrementalAlterConfigsResponse { Responses = responses };
    }

    // ---- CreatePartitions

    /// <summary>More partitions for existing topics, placed by the topic registry; a manual assignment is refused (as in CreateTopics).</summary>
    private async Task<IKafkaMessage?> CreatePartitionsAsync(K.CreatePartitionsRequest request)
    {
        var changes = new List<PartitionCountChange>();
        foreach (var t in request.Topics)
            if (t.Assignments is null) changes.Add(new PartitionCountChange(t.Name, t.Count));
        var byName = new Dictionary<string, TopicResult>(StringComparer.Ordinal);
        IBrokerResponse? failed = null;
        if (changes.Count > 0)
        {
            var reply = await AskAsync(new CreatePartitionsRequest(changes, request.ValidateOnly), AskTimeout).ConfigureAwait(false);
            if (reply is CreatePartitionsResponse r)
                foreach (var result in r.Results) byName.TryAdd(result.Name, result);
            else
                failed = reply;
        }
        var results = new List<K.CreatePartitionsResponse.CreatePartitionsTopicResult>(request.Topics.Count);
        foreach (var t in request.Topics)
        {
            if (t.Assignments is not null)
                results.Add(new() { Name = t.Name, ErrorCode = KafkaErrors.InvalidReplicaAssignment, ErrorMessage = "manual replica assignment is not supported: give the count only, the broker places replicas" });
            else if (byName.TryGetValue(t.Name, out var result))
                results.Add(new() { Name = t.Name, ErrorCode = KafkaErrors.From(result.Error), ErrorMessage = result.ErrorMessage });
            else
                results.Add(new() { Name = t.Name, ErrorCode = KafkaErrors.From(failed?.Error ?? ErrorCode.Unknown), ErrorMessage = failed?.ErrorMessage });
        }
        return new K.CreatePartitionsResponse { Results = results };
    }

    // ---- Partition reassignments (KIP-455)

    private async Task<IKafkaMessage?> ListPartitionReassignmentsAsync(K.ListPartitionReassignmentsRequest request)
    {
        var names = request.Topics?.Select(t => t.Name).ToList();
        var reply = await AskAsync(new MetadataRequest(names), AskTimeout).ConfigureAwait(false);
        if (reply is not MetadataResponse metadata)
            return new K.ListPartitionReassignmentsResponse { ErrorCode = KafkaErrors.From(reply.Error), ErrorMessage = reply.ErrorMessage, Topics = [] };
        var wanted = request.Topics?.ToDictionary(t => t.Name, t => t.PartitionIndexes.ToHashSet(), StringComparer.Ordinal);
        var topics = new List<K.ListPartitionReassignmentsResponse.OngoingTopicReassignment>();
        foreach (var t in metadata.Topics)
        {
            if (t.Error != ErrorCode.None) continue;
            var partitions = new List<K.ListPartitionReassignmentsResponse.OngoingPartitionReassignment>();
            foreach (var p in t.Partitions)
            {
                if (p.AddingReplicas.Count == 0 && p.RemovingReplicas.Count == 0) continue;
                if (wanted is not null && !wanted[t.Name].Contains(p.Partition)) continue;
                partitions.Add(new() { PartitionIndex = p.Partition, Replicas = p.Replicas, AddingReplicas = p.AddingReplicas, RemovingReplicas = p.RemovingReplicas });
            }
            if (partitions.Count > 0) topics.Add(new() { Name = t.Name, Partitions = partitions });
        }
        return new K.ListPartitionReassignmentsResponse { ErrorCode = KafkaErrors.None, Topics = topics };
    }

    /// <summary>Moves go to the topic registry as `broker partitions reassign` sends them; cancelling one (null replicas) is not supported.</summary>
    private async Task<IKafkaMessage?> AlterPartitionReassignmentsAsync(K.AlterPartitionReassignmentsRequest request)
    {
        var moves = new List<PartitionReassignment>();
        foreach (var t in request.Topics)
        {
            foreach (var p in t.Partitions)
                if (p.Replicas is { } replicas) moves.Add(new PartitionReassignment(t.Name, p.PartitionIndex, replicas));
        }
        var results = new Dictionary<(string, int), ReassignmentResult>();
        if (moves.Count > 0)
        {
            var reply = await AskAsync(new ReassignPartitionsRequest(moves), AskTimeout).ConfigureAwait(false);
            if (reply is not ReassignPartitionsResponse done)
                return new K.AlterPartitionReassignmentsResponse { ErrorCode = KafkaErrors.From(reply.Error), ErrorMessage = reply.ErrorMessage, Responses = [] };
            foreach (var r in done.Results) results[(r.Topic, r.Partition)] = r;
        }
        var responses = new List<K.AlterPartitionReassignmentsResponse.ReassignableTopicResponse>(request.Topics.Count);
        foreach (var t in request.Topics)
        {
            var partitions = new List<K.AlterPartitionReassignmentsResponse.ReassignablePartitionResponse>(t.Partitions.Count);
            foreach (var p in t.Partitions)
            {
                if (p.Replicas is null)
                {
                    partitions.Add(new() { PartitionIndex = p.PartitionIndex, ErrorCode = KafkaErrors.InvalidRequest, ErrorMessage = "cancelling a reassignment is not supported: reassign the partition back instead" });
                    continue;
                }
                var r = results.GetValueOrDefault((t.Name, p.PartitionIndex));
                partitions.Add(new()
                {
                    PartitionIndex = p.PartitionIndex,
                    ErrorCode = r is null ? KafkaErrors.UnknownServerError : KafkaErrors.From(r.Error),
                    ErrorMessage = r?.ErrorMessage,
                });
            }
            responses.Add(new() { Name = t.Name, Partitions = partitions });
        }
        return new K.AlterPartitionReassignmentsResponse { ErrorCode = KafkaErrors.None, Responses = responses };
    }
}
