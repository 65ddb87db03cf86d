using Broker.Client.Internal;
using Broker.Protocol.Messages;

namespace Broker.Client;

/// <summary>Creates, deletes and describes topics; reads cluster metadata and offsets.</summary>
public sealed class AdminClient : IDisposable, IAsyncDisposable
{
    private readonly GatewayConnection _connection;

    public AdminClient(ClientConfig config)
    {
        _connection = new GatewayConnection(config);
    }

    /// <summary>Creates topics. Per-topic errors (TopicAlreadyExists, InvalidPartitions, ...) are in the results, not thrown.</summary>
    public async Task<IReadOnlyList<TopicResult>> CreateTopicsAsync(IEnumerable<TopicSpec> topics) =>
        (await _connection.AskAsync<CreateTopicsResponse>(new CreateTopicsRequest(topics.ToList()), idempotent: false).ConfigureAwait(false)).Results;

    /// <summary>Deletes topics and their data. Per-topic errors (UnknownTopic) are in the results, not thrown.</summary>
    public async Task<IReadOnlyList<TopicResult>> DeleteTopicsAsync(IEnumerable<string> topics) =>
        (await _connection.AskAsync<DeleteTopicsResponse>(new DeleteTopicsRequest(topics.ToList()), idempotent: false).ConfigureAwait(false)).Results;

    /// <summary>Brokers and topics (all, or the named ones) with each partition's leader and offsets.</summary>
    public Task<MetadataResponse> GetMetadataAsync(IReadOnlyList<string>? topics = null) =>
        _connection.AskAsync<MetadataResponse>(new MetadataRequest(topics));

    /// <summary>An offset by time: <see cref="OffsetSpec.Earliest"/>, <see cref="OffsetSpec.Latest"/>, or a Unix time in ms.</summary>
    public async Task<ListOffsetsResponse> ListOffsetsAsync(string topic, int partition, long timestamp)
    {
        var response = await _connection.AskAsync<ListOffsetsResponse>(new ListOffsetsRequest(topic, partition, timestamp)).ConfigureAwait(false);
        if (response.Error != Broker.Protocol.ErrorCode.None) throw new BrokerException(response.Error, response.ErrorMessage ?? response.Error.ToString());
        return response;
    }

    /// <summary>Nodes with roles and state, and which node hosts which partition.</summary>
    public Task<ClusterStatusResponse> GetClusterStatusAsync() =>
        _connection.AskAsync<ClusterStatusResponse>(new ClusterStatusRequest());

    public void Dispose() => _connection.Dispose();

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
