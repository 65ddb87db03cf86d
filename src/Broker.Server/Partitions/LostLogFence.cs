using Broker.Server.Metadata;

namespace Broker.Server.Partitions;

/// <summary>
/// A node that starts on a data directory without its node id (new, or its disk was lost and it was started again
/// with its old --node-id) holds no replica data, but the metadata may still list it in ISRs: elected there, it would
/// lead with an empty log and its followers would truncate everything acknowledged (Kafka's KAFKA-15586). So before
/// it runs any replica, the node takes itself out of every ISR and out of leadership, as one committed metadata
/// change; it rejoins each ISR the ordinary way, by catching up. A partition whose only in-sync replica was this node
/// stays offline (its data is gone) unless unclean.leader.election.enable says otherwise.
///
/// The pending fence is a marker file, written when the directory is created and deleted once the change is
/// committed, so a node that dies (or is downed and restarts in-process) before that fences again at its next start.
/// </summary>
public static class LostLogFence
{
    public const string MarkerName = "isr-fence.pending";

    /// <summary>Whether the node must fence itself at this start; creates the marker for a new directory.</summary>
    public static bool Pending(string dataDirectory, bool newDirectory)
    {
        var marker = Path.Combine(dataDirectory, MarkerName);
        if (newDirectory)
        {
            Directory.CreateDirectory(dataDirectory);
            File.WriteAllText(marker, "this node's data directory was new: it leaves every ISR before it runs a replica\n");
        }
        return File.Exists(marker);
    }

    public static void Done(string dataDirectory) => File.Delete(Path.Combine(dataDirectory, MarkerName));

    /// <summary>
    /// The partition states without <paramref name="nodeId"/> in any ISR or leading anything; the same table when it is
    /// in none. A partition that never had a leader (epoch 0: created, not yet elected) is left as it is: it never
    /// accepted a record, so this node's empty log holds all of it. Such a partition is usually a topic created after
    /// this node started, while its fence waited for the quorum (a new cluster's quorum starts once every voter has);
    /// taking the node out of its ISR only made acks=all wait until the node caught up again.
    /// </summary>
    public static PartitionStateTable Without(PartitionStateTable table, int nodeId)
    {
        var result = table;
        foreach (var (key, state) in table.Entries)
        {
            if (!state.InIsr(nodeId) && state.Leader != nodeId) continue;
            if (NeverLed(state)) continue;
            var leads = state.Leader == nodeId;
            result = result.Put(key, new PartitionState(
                leads ? state.LeaderEpoch + 1 : state.LeaderEpoch,
                leads ? 0 : state.PartitionEpoch + 1,
                leads ? PartitionState.NoLeader : state.Leader,
                state.Isr.Remove(nodeId)));
        }
        return result;
    }

    private static bool NeverLed(PartitionState state) => state.LeaderEpoch == 0 && state.Leader == PartitionState.NoLeader;

    /// <summary>Commits <see cref="Without"/> for this node; returns how many partitions it left.</summary>
    public static async Task<int> RunAsync(MetadataStore store, int nodeId)
    {
        var left = 0;
        await store.UpdatePartitionsAsync(table =>
        {
            var fenced = Without(table, nodeId);
            left = fenced.Entries.Count(e => !ReferenceEquals(e.Value, table.Get(e.Key)));
            return fenced;
        }).ConfigureAwait(false);
        return left;
    }
}
