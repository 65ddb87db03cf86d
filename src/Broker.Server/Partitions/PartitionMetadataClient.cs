using System.Collections.Immutable;
using Broker.Server.Metadata;

namespace Broker.Server.Partitions;

/// <summary>
/// The outcome of writing a partition's leader and ISR to the metadata store (an election or an ISR change,
/// Kafka's AlterPartition): written, refused because the state moved on (a newer leader epoch, a concurrent
/// election), refused because this replica may not lead, or not confirmed by a majority (it may still land).
/// </summary>
internal abstract record PartitionStateWrite
{
    private PartitionStateWrite() { }

    /// <summary>The store now holds <paramref name="State"/>.</summary>
    public sealed record Written(PartitionState State) : PartitionStateWrite;

    /// <summary>The store holds a newer state (<paramref name="Newer"/>, when it was read back): this write lost.</summary>
    public sealed record Conflict(string Reason, PartitionState? Newer) : PartitionStateWrite;

    /// <summary>An election this replica may not run (<see cref="ElectionRule.Candidacy"/>): <paramref name="Current"/> is what the store holds.</summary>
    public sealed record Ineligible(string Reason, PartitionState Current) : PartitionStateWrite;

    /// <summary>No majority answered: unknown whether the write landed.</summary>
    public sealed record Unavailable(string Reason) : PartitionStateWrite;
}

/// <summary>
/// Every metadata read and write a partition replica makes, in one place: an election (read the committed state
/// from a majority, decide with <see cref="ElectionRule"/>, compare-and-set the next leader epoch, read back who
/// won) and an ISR change (compare-and-set on leader epoch and partition epoch, KIP-497). On the metadata quorum the
/// compare-and-set is decided in log order (docs/architecture.md, "Metadata by consensus"), so a write that returns
/// is the one that won; on Distributed Data it runs on the local copy, and the read-back settles races by merge order.
/// The hosting actor calls it and pipes the outcome to itself; the rules never call it.
/// </summary>
internal sealed class PartitionMetadataClient(MetadataStore store)
{
    public async Task<PartitionStateWrite> ElectAsync(string topicId, int partition, ImmutableArray<int> replicas,
        Func<PartitionState, ElectionRule.Candidacy> decide)
    {
        try
        {
            var key = PartitionStateTable.KeyOf(topicId, partition);
            var current = (await store.PartitionsAsync(majority: true).ConfigureAwait(false)).Find(topicId, partition)
                ?? new PartitionState(0, 0, PartitionState.NoLeader, replicas);
            PartitionState next;
            switch (decide(current))
            {
                case ElectionRule.Candidacy.Eligible eligible: next = eligible.Next; break;
                case ElectionRule.Candidacy.NotEligible refused: return new PartitionStateWrite.Ineligible(refused.Reason, current);
                default: throw new InvalidOperationException("unknown candidacy");
            }
            await store.UpdatePartitionsAsync(table =>
            {
                if (table.Get(key) is { } now && now.CompareTo(current) > 0)
                    throw new MetadataConflictException($"partition state moved on to {now} during the election");
                return table.Put(key, next);
            }).ConfigureAwait(false);
            if (store.ByConsensus) return new PartitionStateWrite.Written(next); // committed in log order: it won
            // Two elections racing from stale views resolve by the merge order; read back to learn who won.
            var after = (await store.PartitionsAsync(majority: true).ConfigureAwait(false)).Find(topicId, partition);
            return after is not null && after.CompareTo(next) == 0
                ? new PartitionStateWrite.Written(next)
                : new PartitionStateWrite.Conflict("another election won", after);
        }
        catch (MetadataConflictException ex)
        {
            return new PartitionStateWrite.Conflict(ex.Message, null);
        }
        catch (Exception ex)
        {
            return new PartitionStateWrite.Unavailable(ex.Message);
        }
    }

    /// <summary>Writes <paramref name="next"/> if the store still holds <paramref name="expected"/> (or already <paramref name="next"/>).</summary>
    public async Task<PartitionStateWrite> AlterIsrAsync(string topicId, int partition, PartitionState expected, PartitionState next)
    {
        var key = PartitionStateTable.KeyOf(topicId, partition);
        PartitionState? stored = null;
        try
        {
            await store.UpdatePartitionsAsync(table =>
            {
                if (table.Get(key) is { } now && now.CompareTo(expected) != 0 && now.CompareTo(next) != 0)
                {
                    stored = now;
                    throw new MetadataConflictException($"partition state is {now}, expected {expected}");
                }
                return table.Put(key, next);
            }).ConfigureAwait(false);
            return new PartitionStateWrite.Written(next);
        }
        catch (MetadataConflictException ex)
        {
            return new PartitionStateWrite.Conflict(ex.Message, stored); // what the store holds, so the leader can tell fenced from behind
        }
        catch (Exception ex)
        {
            return new PartitionStateWrite.Unavailable(ex.Message);
        }
    }
}
