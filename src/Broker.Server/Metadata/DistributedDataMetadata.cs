using Akka.Actor;
using Akka.DistributedData;

namespace Broker.Server.Metadata;

/// <summary>
/// The metadata in Akka.DistributedData: gossiped to every node, written with majority consistency and stored durably
/// on each node. A majority read and a majority write share a node, so the read sees every write that succeeded; but
/// the majority is of the nodes currently known (one, for a node alone), and <c>modify</c> runs on the local copy, so
/// in a cluster this is not a compare-and-set (docs/architecture.md). The quorum backend replaces it there.
/// </summary>
internal sealed class DistributedDataMetadata(ActorSystem system, TimeSpan timeout) : IMetadataBackend
{
    private readonly IActorRef _replicator = DistributedData.Get(system).Replicator;

    public Task<TopicTable> TopicsAsync(bool majority) => GetAsync(MetadataKeys.Topics, TopicTable.Empty, majority);

    public Task<PartitionStateTable> PartitionsAsync(bool majority) => GetAsync(MetadataKeys.Partitions, PartitionStateTable.Empty, majority);

    public Task<ProducerIdBlocks> ProducerIdsAsync(bool majority) => GetAsync(MetadataKeys.ProducerIds, ProducerIdBlocks.Empty, majority);

    public Task<AclTable> AclsAsync(bool majority) => GetAsync(MetadataKeys.Acls, AclTable.Empty, majority);

    public Task<UserTable> UsersAsync(bool majority) => GetAsync(MetadataKeys.Users, UserTable.Empty, majority);

    public Task UpdateAclsAsync(Func<AclTable, AclTable> modify) => UpdateAsync(MetadataKeys.Acls, AclTable.Empty, modify);

    public Task UpdateUsersAsync(Func<UserTable, UserTable> modify) => UpdateAsync(MetadataKeys.Users, UserTable.Empty, modify);

    public Task UpdateTopicsAsync(Func<TopicTable, TopicTable> modify) => UpdateAsync(MetadataKeys.Topics, TopicTable.Empty, modify);

    public Task UpdatePartitionsAsync(Func<PartitionStateTable, PartitionStateTable> modify) => UpdateAsync(MetadataKeys.Partitions, PartitionStateTable.Empty, modify);

    public Task UpdateProducerIdsAsync(Func<ProducerIdBlocks, ProducerIdBlocks> modify) => UpdateAsync(MetadataKeys.ProducerIds, ProducerIdBlocks.Empty, modify);

    public IDisposable Subscribe(IActorRef subscriber, MetadataTable table)
    {
        (IKey key, object subscribe) = table switch
        {
            MetadataTable.Topics => ((IKey)MetadataKeys.Topics, (object)Dsl.Subscribe(MetadataKeys.Topics, subscriber)),
            MetadataTable.Partitions => (MetadataKeys.Partitions, Dsl.Subscribe(MetadataKeys.Partitions, subscriber)),
            MetadataTable.Acls => (MetadataKeys.Acls, Dsl.Subscribe(MetadataKeys.Acls, subscriber)),
            _ => (MetadataKeys.Users, Dsl.Subscribe(MetadataKeys.Users, subscriber)),
        };
        _replicator.Tell(subscribe);
        return new Unsubscribe(_replicator, key, subscriber);
    }

    private async Task<T> GetAsync<T>(Key<T> key, T empty, bool majority) where T : class, IReplicatedData
    {
        IReadConsistency consistency = majority ? new ReadMajority(timeout) : ReadLocal.Instance;
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
            Dsl.Update(key, empty, new WriteMajority(timeout), data => modify(data)), timeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
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

    private sealed class Unsubscribe(IActorRef replicator, IKey key, IActorRef subscriber) : IDisposable
    {
        public void Dispose() => replicator.Tell(new Akka.DistributedData.Unsubscribe(key, subscriber));
    }
}
