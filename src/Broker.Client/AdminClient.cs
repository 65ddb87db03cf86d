// Public admin client: topics, metadata, offsets, consumer groups and cluster status, one request each.
using Broker.Client.Connection;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Client;

/// <summary>
/// Manages topics and reads cluster state. Thread-safe. Read-only requests (metadata, offsets, cluster
/// status) are retried once on another gateway if the first does not answer; creates and deletes are not.
/// </summary>
public sealed class AdminClient : IDisposable, IAsyncDisposable
{
    private readonly IBrokerTransport _transport;

    /// <summary>Creates an admin client; it connects on the first request. Throws <see cref="BrokerException"/> (InvalidConfig) for a bad bootstrap list.</summary>
    public AdminClient(ClientConfig config) : this(new GatewayConnection(config ?? throw new ArgumentNullException(nameof(config))))
    {
    }

    internal AdminClient(IBrokerTransport transport)
    {
        _transport = transport;
    }

    /// <summary>Creates topics. Each topic's outcome (e.g. TopicAlreadyExists, InvalidPartitions) is in its result; this throws only if the request itself fails.</summary>
    public async Task<IReadOnlyList<TopicResult>> CreateTopicsAsync(IEnumerable<TopicSpec> topics, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topics);
        var response = await _transport.RequestAsync<CreateTopicsResponse>(new CreateTopicsRequest([.. topics]), idempotent: false, cancellationToken).ConfigureAwait(false);
        return response.Results;
    }

    /// <summary>Deletes topics and their data. Each topic's outcome (e.g. UnknownTopic) is in its result.</summary>
    public async Task<IReadOnlyList<TopicResult>> DeleteTopicsAsync(IEnumerable<string> topics, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topics);
        var response = await _transport.RequestAsync<DeleteTopicsResponse>(new DeleteTopicsRequest([.. topics]), idempotent: false, cancellationToken).ConfigureAwait(false);
        return response.Results;
    }

    /// <summary>
    /// Moves partitions' replicas to other nodes (see <see cref="ReassignmentPlanner"/> to replace a node that is gone).
    /// Each partition's outcome (e.g. InvalidReplicaAssignment, ReassignmentInProgress) is in its result; a move that
    /// was accepted runs in the background: <see cref="GetMetadataAsync"/> shows its adding and removing replicas.
    /// </summary>
    public async Task<IReadOnlyList<ReassignmentResult>> ReassignPartitionsAsync(IEnumerable<PartitionReassignment> moves, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(moves);
        var response = await _transport.RequestAsync<ReassignPartitionsResponse>(new ReassignPartitionsRequest([.. moves]), idempotent: false, cancellationToken).ConfigureAwait(false);
        return response.Results;
    }

    /// <summary>
    /// Changes a topic's configs key by key (Kafka's IncrementalAlterConfigs): <see cref="ConfigOperation.Set"/> or
    /// <see cref="ConfigOperation.Delete"/> (back to the node's default); keys not named keep their values. The outcome
    /// (e.g. InvalidConfig, UnknownTopic) is in the result: all of the changes applied, or none.
    /// </summary>
    public async Task<TopicResult> AlterTopicConfigsAsync(string topic, IEnumerable<TopicConfigChange> changes, bool validateOnly = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(changes);
        var response = await _transport.RequestAsync<AlterTopicConfigsResponse>(new AlterTopicConfigsRequest([new TopicConfigAlteration(topic, [.. changes])], validateOnly), idempotent: false, cancellationToken).ConfigureAwait(false);
        return response.Results[0];
    }

    /// <summary>
    /// Grows a topic to <paramref name="count"/> partitions (Kafka's CreatePartitions); the new replicas are placed as
    /// for a new topic. Keys hash to other partitions afterwards. The outcome (e.g. InvalidPartitions) is in the result.
    /// </summary>
    public async Task<TopicResult> CreatePartitionsAsync(string topic, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topic);
        var response = await _transport.RequestAsync<CreatePartitionsResponse>(new CreatePartitionsRequest([new PartitionCountChange(topic, count)]), idempotent: false, cancellationToken).ConfigureAwait(false);
        return response.Results[0];
    }

    /// <summary>
    /// Deletes a partition's records below <paramref name="beforeOffset"/> (-1: every committed record), as
    /// kafka-delete-records does; returns the new log start. Throws <see cref="BrokerException"/> (e.g. OffsetOutOfRange
    /// past the high watermark).
    /// </summary>
    public async Task<long> DeleteRecordsAsync(string topic, int partition, long beforeOffset, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topic);
        var response = await _transport.RequestAsync<DeleteRecordsResponse>(new DeleteRecordsRequest(topic, partition, beforeOffset), idempotent: false, cancellationToken).ConfigureAwait(false);
        BrokerErrors.ThrowIfFailed(response);
        return response.LowWatermark;
    }

    /// <summary>Brokers, and topics with their partitions and offsets; null means every topic. A missing topic comes back with Error UnknownTopic.</summary>
    public Task<MetadataResponse> GetMetadataAsync(IReadOnlyList<string>? topics = null, CancellationToken cancellationToken = default) =>
        _transport.RequestAsync<MetadataResponse>(new MetadataRequest(topics), idempotent: true, cancellationToken);

    /// <summary>
    /// The offset for a time: <see cref="OffsetSpec.Earliest"/> (-2), <see cref="OffsetSpec.Latest"/> (-1), or the first
    /// record at or after a Unix time in ms (Offset -1 if none). Throws <see cref="BrokerException"/> if the response carries an error.
    /// </summary>
    public async Task<ListOffsetsResponse> ListOffsetsAsync(string topic, int partition, long timestamp, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(topic);
        var response = await _transport.RequestAsync<ListOffsetsResponse>(new ListOffsetsRequest(topic, partition, timestamp), idempotent: true, cancellationToken).ConfigureAwait(false);
        BrokerErrors.ThrowIfFailed(response);
        return response;
    }

    /// <summary>Nodes with their roles and state, and which node hosts which partition.</summary>
    public Task<ClusterStatusResponse> GetClusterStatusAsync(CancellationToken cancellationToken = default) =>
        _transport.RequestAsync<ClusterStatusResponse>(new ClusterStatusRequest(), idempotent: true, cancellationToken);

    /// <summary>Every consumer group the broker knows, with its state and member count.</summary>
    public async Task<IReadOnlyList<GroupListing>> ListGroupsAsync(CancellationToken cancellationToken = default)
    {
        var response = await _transport.RequestAsync<ListGroupsResponse>(new ListGroupsRequest(), idempotent: true, cancellationToken).ConfigureAwait(false);
        BrokerErrors.ThrowIfFailed(response);
        return response.Groups;
    }

    /// <summary>A group's state, generation, members with their partitions, and committed offsets. Throws <see cref="BrokerException"/> (UnknownGroup) for a group that does not exist.</summary>
    public async Task<DescribeGroupResponse> DescribeGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        var response = await _transport.RequestAsync<DescribeGroupResponse>(new DescribeGroupRequest(groupId), idempotent: true, cancellationToken).ConfigureAwait(false);
        BrokerErrors.ThrowIfFailed(response);
        return response;
    }

    /// <summary>
    /// Sets a group's committed offsets (each the next offset to read). As in Kafka, only while the group has no
    /// members: otherwise it throws <see cref="BrokerException"/> with NonEmptyGroup.
    /// </summary>
    public async Task SetGroupOffsetsAsync(string groupId, IEnumerable<TopicPartitionOffset> offsets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        ArgumentNullException.ThrowIfNull(offsets);
        var parts = new List<OffsetCommitPartition>();
        foreach (var o in offsets) parts.Add(new OffsetCommitPartition(o.Topic, o.Partition, o.Offset, null));
        var response = await _transport.RequestAsync<OffsetCommitResponse>(new OffsetCommitRequest(groupId, -1, "", parts), idempotent: false, cancellationToken).ConfigureAwait(false);
        BrokerErrors.ThrowIfFailed(response);
        foreach (var r in response.Results)
            if (r.Error != ErrorCode.None) throw BrokerErrors.From(r.Error, r.ErrorMessage);
    }

    /// <summary>
    /// Deletes a consumer group and its committed offsets (Kafka's DeleteGroups). Only a group without members: throws
    /// <see cref="BrokerException"/> with NonEmptyGroup otherwise, UnknownGroup if there is no such group.
    /// </summary>
    public async Task DeleteGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        var response = await _transport.RequestAsync<DeleteGroupResponse>(new DeleteGroupRequest(groupId), idempotent: false, cancellationToken).ConfigureAwait(false);
        BrokerErrors.ThrowIfFailed(response);
    }

    /// <summary>Disconnects; requests still waiting fail.</summary>
    public void Dispose() => _transport.Dispose();

    /// <summary>Disconnects without blocking the calling thread; requests still waiting fail.</summary>
    public ValueTask DisposeAsync() => _transport.DisposeAsync();
}
