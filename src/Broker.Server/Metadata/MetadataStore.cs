using Akka.Actor;
using Akka.DistributedData;

namespace Broker.Server.Metadata;

/// <summary>
/// The cluster's metadata (topics with their replica assignments, and every partition's leader, epochs
/// and ISR) kept in Akka.DistributedData: gossiped to every node, written with majority consistency and
/// stored durably (LMDB under the data directory) on each node, so it survives the loss of any minority
/// of nodes and a full restart. Decisions that must not act on a stale view (creating or deleting topics,
/// electing a leader, changing an ISR) read from a majority first; a majority read and a majority write
/// always share a node, so the read sees every write that succeeded.
/// </summary>
public sealed class MetadataStore(ActorSystem system, TimeSpan timeout)
{
    private readonly IActorRef _replicator = DistributedData.Get(system).Replicator;

    public IActorRef Replicator => _replicator;

    public TimeSpan Timeout => timeout;

    public IReadConsistency Majority => new ReadMajority(timeout);
    public IWriteConsistency WriteMajority => new WriteMajority(timeout);

    public Task<TopicTable> TopicsAsync(bool majority) => GetAsync(MetadataKeys.Topics, TopicTable.Empty, majority);

    public Task<PartitionStateTable> PartitionsAsync(bool majority) => GetAsync(MetadataKeys.Partitions, PartitionStateTable.Empty, majority);

    public Task UpdateTopicsAsync(Func<TopicTable, TopicTable> modify) => UpdateAsync(MetadataKeys.Topics, TopicTable.Empty, modify);

    public Task UpdatePartitionsAsync(Func<PartitionStateTable, PartitionStateTable> modify) => UpdateAsync(MetadataKeys.Partitions, PartitionStateTable.Empty, modify);

    public Task<ProducerIdBlocks> ProducerIdsAsync(bool majority) => GetAsync(MetadataKeys.ProducerIds, ProducerIdBlocks.Empty, majority);

    public Task UpdateProducerIdsAsync(Func<ProducerIdBlocks, ProducerIdBlocks> modify) => UpdateAsync(MetadataKeys.ProducerIds, ProducerIdBlocks.Empty, modify);

    private async Task<T> GetAsync<T>(Key<T> key, T empty, bool majority) where T : class, IReplicatedData
    {
        IReadConsistency consistency = majority ? Majority : ReadLocal.Instance;
        var response = await _replicator.Ask<IGetResponse>(Dsl.Get(key, consistency), timeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        return response switch
        {
            GetSuccess success => success.Get(key),
            NotFound => empty,
            _ => throw new MetadataUnavailableException($"metadata key {key.Id} could not be read from a majority of nodes within {timeout.TotalSeconds:0.#}s"),
        };
    }

    private async Task UpdateAsync<T>(Key<T> key, T empty, Func<T, T> modify) where T : class, IReplicatedData
    {
        var response = await _replicator.Ask<IUpdateResponse>(
            Dsl.Update(key, empty, WriteMajority, data => modify(data)), timeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        switch (response)
        {
            case UpdateSuccess:
                return;
            case ModifyFailure failure when failure.Cause is MetadataConflictException conflict:
                throw conflict;
            case UpdateTimeout:
                // Applied here and gossiped later, but not confirmed by a majority: the caller must treat it as "maybe".
                throw new MetadataUnavailableException($"metadata key {key.Id} could not be written to a majority of nodes within {timeout.TotalSeconds:0.#}s; is a majority of the cluster up?");
            default:
                throw new MetadataUnavailableException($"metadata key {key.Id} update failed: {response}");
        }
    }
}

/// <summary>The metadata store could not reach a majority of nodes in time: retry later.</summary>
public sealed class MetadataUnavailableException(string message) : Exception(message);

/// <summary>A conditional metadata change found a newer state than it expected (someone else changed it first).</summary>
public sealed class MetadataConflictException(string message) : Exception(message);
