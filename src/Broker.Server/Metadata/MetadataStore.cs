using Akka.Actor;
using Broker.Server.Controller.Quorum;

namespace Broker.Server.Metadata;

/// <summary>
/// The cluster's metadata (topics with their replica assignments, every partition's leader, epochs and ISR, the
/// producer-id blocks, and the security tables: ACLs and SASL users) as the node's actors read and change it. Two backends:
/// <list type="bullet">
/// <item>the metadata quorum (<see cref="QuorumMetadata"/>), when broker.metadata.quorum.voters is set: a Raft log on
/// a fixed voter set; a majority read is linearizable and every write is a compare-and-set decided in log order, so a
/// node without a majority of voters can neither read nor change anything;</item>
/// <item>Akka.DistributedData (<see cref="DistributedDataMetadata"/>) otherwise: gossiped, majority writes of the
/// nodes currently known. Safe on one node; in a cluster it is the pre-quorum store whose limits
/// docs/architecture.md lists.</item>
/// </list>
/// Decisions that must not act on a stale view (creating or deleting topics, electing a leader, changing an ISR)
/// read with <c>majority: true</c> first and write through <c>modify</c>, which throws
/// <see cref="MetadataConflictException"/> when the state it sees is not the one the decision was made on.
/// </summary>
public sealed class MetadataStore
{
    private readonly IMetadataBackend _backend;

    public MetadataStore(ActorSystem system, TimeSpan timeout)
    {
        Timeout = timeout;
        _backend = QuorumExtension.Find(system) is { } quorum
            ? new QuorumMetadata(quorum, timeout)
            : new DistributedDataMetadata(system, timeout);
    }

    public TimeSpan Timeout { get; }

    /// <summary>True when the metadata quorum decides; false on the Distributed Data store.</summary>
    public bool ByConsensus => _backend is QuorumMetadata;

    public Task<TopicTable> TopicsAsync(bool majority) => _backend.TopicsAsync(majority);

    public Task<PartitionStateTable> PartitionsAsync(bool majority) => _backend.PartitionsAsync(majority);

    public Task<ProducerIdBlocks> ProducerIdsAsync(bool majority) => _backend.ProducerIdsAsync(majority);

    public Task<AclTable> AclsAsync(bool majority) => _backend.AclsAsync(majority);

    public Task<UserTable> UsersAsync(bool majority) => _backend.UsersAsync(majority);

    public Task UpdateTopicsAsync(Func<TopicTable, TopicTable> modify) => _backend.UpdateTopicsAsync(modify);

    public Task UpdatePartitionsAsync(Func<PartitionStateTable, PartitionStateTable> modify) => _backend.UpdatePartitionsAsync(modify);

    public Task UpdateProducerIdsAsync(Func<ProducerIdBlocks, ProducerIdBlocks> modify) => _backend.UpdateProducerIdsAsync(modify);

    public Task UpdateAclsAsync(Func<AclTable, AclTable> modify) => _backend.UpdateAclsAsync(modify);

    public Task UpdateUsersAsync(Func<UserTable, UserTable> modify) => _backend.UpdateUsersAsync(modify);

    /// <summary>
    /// <paramref name="subscriber"/> is told of every change of the topic table: a <see cref="TopicTable"/> from the
    /// quorum, Distributed Data's <c>Changed</c> otherwise. Dispose to stop (in PostStop).
    /// </summary>
    public IDisposable SubscribeTopics(IActorRef subscriber) => _backend.Subscribe(subscriber, MetadataTable.Topics);

    /// <summary>As <see cref="SubscribeTopics"/>, for the partition states (<see cref="PartitionStateTable"/>).</summary>
    public IDisposable SubscribePartitions(IActorRef subscriber) => _backend.Subscribe(subscriber, MetadataTable.Partitions);

    /// <summary>As <see cref="SubscribeTopics"/>, for the ACLs (<see cref="AclTable"/>) or the users (<see cref="UserTable"/>).</summary>
    public IDisposable Subscribe(IActorRef subscriber, MetadataTable table) => _backend.Subscribe(subscriber, table);
}

/// <summary>The metadata tables a subscriber can follow.</summary>
public enum MetadataTable
{
    Topics,
    Partitions,
    Acls,
    Users,
}

internal interface IMetadataBackend
{
    Task<TopicTable> TopicsAsync(bool majority);
    Task<PartitionStateTable> PartitionsAsync(bool majority);
    Task<ProducerIdBlocks> ProducerIdsAsync(bool majority);
    Task<AclTable> AclsAsync(bool majority);
    Task<UserTable> UsersAsync(bool majority);
    Task UpdateTopicsAsync(Func<TopicTable, TopicTable> modify);
    Task UpdatePartitionsAsync(Func<PartitionStateTable, PartitionStateTable> modify);
    Task UpdateProducerIdsAsync(Func<ProducerIdBlocks, ProducerIdBlocks> modify);
    Task UpdateAclsAsync(Func<AclTable, AclTable> modify);
    Task UpdateUsersAsync(Func<UserTable, UserTable> modify);
    IDisposable Subscribe(IActorRef subscriber, MetadataTable table);
}

/// <summary>The metadata store could not reach a majority of nodes (or voters) in time: retry later.</summary>
public sealed class MetadataUnavailableException(string message) : Exception(message);

/// <summary>A conditional metadata change found a newer state than it expected (someone else changed it first).</summary>
public sealed class MetadataConflictException(string message) : Exception(message);
