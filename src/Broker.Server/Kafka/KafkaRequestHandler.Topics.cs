using Broker.Kafka;
using Broker.Protocol;
using Broker.Protocol.Messages;
using K = Broker.Kafka.Messages;

namespace Broker.Server.Kafka;

// Metadata, CreateTopics and DeleteTopics: the topic registry's and the metadata store's side of the listener.
internal sealed partial class KafkaRequestHandler
{
    // ---- Metadata

    private async Task<IKafkaMessage?> MetadataAsync(K.MetadataRequest request, short version)
    {
        List<string>? names = null;
        if (request.Topics is { } topics && (version > 0 || topics.Count > 0)) // v0: an empty list means every topic
        {
            names = new List<string>(topics.Count);
            foreach (var t in topics) names.Add(t.Name ?? "");
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
                ErrorCode = KafkaErrors.From(t.Error),
                Name = t.Name,
                TopicId = Guid.TryParse(t.TopicId, out var id) ? id : Guid.Empty,
                IsInternal = false,
                Partitions = partitions,
            });
        }
        response.Topics = topicsOut;
        return response;
    }

    /// <summary>A partition whose leader did not answer the offsets query still has a leader in the metadata store; one without a leader is LEADER_NOT_AVAILABLE, which clients retry.</summary>
    private static short PartitionMetadataError(PartitionMetadata p) => p.Error switch
    {
        ErrorCode.None => p.LeaderId < 0 ? KafkaErrors.LeaderNotAvailable : KafkaErrors.None,
        ErrorCode.RequestTimedOut => KafkaErrors.LeaderNotAvailable,
        _ => KafkaErrors.From(p.Error),
    };

    // ---- CreateTopics / DeleteTopics

    private async Task<IKafkaMessage?> CreateTopicsAsync(K.CreateTopicsRequest request)
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

        var results = new List<K.CreateTopicsResponse.CreatableTopicResult>(request.Topics.Count);
        foreach (var t in request.Topics)
        {
            if (refused.TryGetValue(t.Name, out var no))
                results.Add(new() { Name = t.Name, ErrorCode = no.Error, ErrorMessage = no.Message });
            else if (created.TryGetValue(t.Name, out var result))
                results.Add(new() { Name = t.Name, ErrorCode = KafkaErrors.From(result.Error), ErrorMessage = result.ErrorMessage });
            else
                results.Add(new() { Name = t.Name, ErrorCode = KafkaErrors.UnknownServerError, ErrorMessage = "the topic registry did not answer for this topic" });
        }
        return new K.CreateTopicsResponse { Topics = results };
    }

    private async Task<IKafkaMessage?> DeleteTopicsAsync(K.DeleteTopicsRequest request)
    {
        var reply = await AskAsync(new DeleteTopicsRequest(request.TopicNames), AskTimeout).ConfigureAwait(false);
        var byName = new Dictionary<string, TopicResult>(StringComparer.Ordinal);
        if (reply is DeleteTopicsResponse r)
            foreach (var result in r.Results) byName[result.Name] = result;
        var results = new List<K.DeleteTopicsResponse.DeletableTopicResult>(request.TopicNames.Count);
        foreach (var name in request.TopicNames)
        {
            var error = byName.TryGetValue(name, out var result) ? result.Error : reply.Error == ErrorCode.None ? ErrorCode.Unknown : reply.Error;
            results.Add(new() { Name = name, ErrorCode = KafkaErrors.From(error), ErrorMessage = result?.ErrorMessage ?? reply.ErrorMessage });
        }
        return new K.DeleteTopicsResponse { Responses = results };
    }
}
