using System.Collections.Immutable;
using Akka.Actor;
using Broker.Server.Controller;
using Broker.Server.Controller.Quorum;

namespace Broker.Server.Metadata;

/// <summary>
/// The metadata in the metadata quorum's log (docs/architecture.md, "Metadata by consensus"). A majority read is a
/// Raft read barrier (linearizable: it sees every write committed before it). A write reads the committed table,
/// runs <c>modify</c> on it and proposes the entries that changed as one <see cref="PutEntries"/>, each with the value
/// it was computed from: the voters apply it only if none of them changed in between, in log order, so concurrent
/// writers cannot both win and a stale one can never override a newer state. A refused write decides again on the
/// newer state (where <c>modify</c> may throw <see cref="MetadataConflictException"/>). Only the entries that changed
/// are shipped and stored: one partition's election is one small log entry, whatever the number of partitions.
/// </summary>
internal sealed class QuorumMetadata(IMetadataQuorum quorum, TimeSpan timeout) : IMetadataBackend
{
    private const int MaxAttempts = 20;

    public Task<TopicTable> TopicsAsync(bool majority) => ReadAsync(MetadataMaps.Topics, majority);

    public Task<PartitionStateTable> PartitionsAsync(bool majority) => ReadAsync(MetadataMaps.Partitions, majority);

    public Task<ProducerIdBlocks> ProducerIdsAsync(bool majority) => ReadAsync(MetadataMaps.ProducerIds, majority);

    public Task<AclTable> AclsAsync(bool majority) => ReadAsync(MetadataMaps.Acls, majority);

    public Task<UserTable> UsersAsync(bool majority) => ReadAsync(MetadataMaps.Users, majority);

    public Task UpdateAclsAsync(Func<AclTable, AclTable> modify) => UpdateAsync(MetadataMaps.Acls, modify);

    public Task UpdateUsersAsync(Func<UserTable, UserTable> modify) => UpdateAsync(MetadataMaps.Users, modify);

    public Task UpdateTopicsAsync(Func<TopicTable, TopicTable> modify) => UpdateAsync(MetadataMaps.Topics, modify);

    public Task UpdatePartitionsAsync(Func<PartitionStateTable, PartitionStateTable> modify) => UpdateAsync(MetadataMaps.Partitions, modify);

    public Task UpdateProducerIdsAsync(Func<ProducerIdBlocks, ProducerIdBlocks> modify) => UpdateAsync(MetadataMaps.ProducerIds, modify);

    public IDisposable Subscribe(IActorRef subscriber, MetadataTable table) => table switch
    {
        MetadataTable.Topics => Subscribe(MetadataMaps.Topics, subscriber),
        MetadataTable.Partitions => Subscribe(MetadataMaps.Partitions, subscriber),
        MetadataTable.Acls => Subscribe(MetadataMaps.Acls, subscriber),
        _ => Subscribe(MetadataMaps.Users, subscriber),
    };

    private IDisposable Subscribe<TValue, TTable>(MetadataMap<TValue, TTable> map, IActorRef subscriber)
        where TValue : class, IComparable<TValue>
        where TTable : VersionedMap<TValue, TTable>
    {
        // Called on the quorum's applier thread, in log order: decode (cached) and hand off.
        var subscription = quorum.Subscribe(change =>
        {
            var relevant = change is SnapshotLoaded
                || change is RecordApplied { Record: PutEntries put, Result: EntriesPut } && put.Map == map.Name;
            if (relevant) subscriber.Tell(map.Decode(change.Image.Map(map.Name)));
        });
        // What is committed already: a subscriber never misses the state it subscribed in.
        subscriber.Tell(map.Decode(quorum.Image.Map(map.Name)));
        return subscription;
    }

    private async Task<TTable> ReadAsync<TValue, TTable>(MetadataMap<TValue, TTable> map, bool majority)
        where TValue : class, IComparable<TValue>
        where TTable : VersionedMap<TValue, TTable>
    {
        if (!majority) return map.Decode(quorum.Image.Map(map.Name));
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            var image = await quorum.ReadAsync(cts.Token).ConfigureAwait(false);
            return map.Decode(image.Map(map.Name));
        }
        catch (OperationCanceledException)
        {
            throw Unavailable("read");
        }
    }

    private async Task UpdateAsync<TValue, TTable>(MetadataMap<TValue, TTable> map, Func<TTable, TTable> modify)
        where TValue : class, IComparable<TValue>
        where TTable : VersionedMap<TValue, TTable>
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var image = await quorum.ReadAsync(cts.Token).ConfigureAwait(false);
                var stored = image.Map(map.Name);
                var current = map.Decode(stored);
                var changes = Diff(map, stored, current, modify(current));
                if (changes.IsEmpty) return;
                var result = await quorum.ProposeAsync(new PutEntries(map.Name, changes), cts.Token).ConfigureAwait(false);
                switch (result)
                {
                    case EntriesPut:
                        return;
                    // Another write landed first, or the controller changed before it answered (the write may have landed:
                    // then modify sees its own result on the next round). Either way: decide again on what is committed.
                    case Refused { Error: MetadataError.InvalidUpdateVersion or MetadataError.OutcomeUnknown } when attempt < MaxAttempts:
                        continue;
                    case Refused refused:
                        throw new MetadataUnavailableException($"metadata {map.Name} not written: {refused}");
                    default:
                        throw new MetadataUnavailableException($"metadata {map.Name}: unexpected result {result}");
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw Unavailable("write");
        }
    }

    /// <summary>The entries of <paramref name="next"/> that differ from <paramref name="current"/>, each with the stored bytes it replaces.</summary>
    private static ImmutableArray<EntryChange> Diff<TValue, TTable>(MetadataMap<TValue, TTable> map, ImmutableSortedDictionary<string, byte[]> stored, TTable current, TTable next)
        where TValue : class, IComparable<TValue>
        where TTable : VersionedMap<TValue, TTable>
    {
        if (ReferenceEquals(current, next)) return [];
        var changes = ImmutableArray.CreateBuilder<EntryChange>();
        foreach (var (key, value) in next.Entries)
        {
            if (current.Entries.TryGetValue(key, out var old) && ReferenceEquals(old, value)) continue;
            stored.TryGetValue(key, out var expected);
            var bytes = map.Encode(key, value);
            if (expected is not null && expected.AsSpan().SequenceEqual(bytes)) continue;
            changes.Add(new EntryChange(key, expected, bytes));
        }
        foreach (var key in current.Entries.Keys)
        {
            if (!next.Entries.ContainsKey(key)) changes.Add(new EntryChange(key, stored[key], null));
        }
        return changes.ToImmutable();
    }

    private MetadataUnavailableException Unavailable(string what) => new(
        $"the metadata quorum could not {what} within {timeout.TotalSeconds:0.#}s ({(quorum.VoterIds.Contains(quorum.NodeId) ? "voter" : "observer")} {quorum.NodeId}, controller {(quorum.ControllerId is { } c ? $"node {c}" : "unknown")}); is a majority of the voters up?");
}
