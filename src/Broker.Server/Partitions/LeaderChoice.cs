using System.Collections.Immutable;
using Broker.Server.Metadata;
using Broker.Server.Topics;

namespace Broker.Server.Partitions;

/// <summary>
/// Where a partition's leader may run (pure rules, used by <see cref="ReplicaAllocationStrategy"/>): only on an
/// in-sync replica that is alive, preferring the current leader, then the assignment order (preferred leader
/// first). With unclean.leader.election.enable, any live replica when no in-sync one is left. -1 means none:
/// the partition is offline until an in-sync replica comes back. While a partition's replicas move
/// (<see cref="Reassignments"/>), an in-sync replica of the target is preferred, so leadership leaves the
/// replicas being removed as soon as a new one has caught up.
/// </summary>
public static class LeaderChoice
{
    public static int For(TopicDescriptor topic, int partition, PartitionState? state, bool uncleanAllowed, Func<int, bool> isAlive, out bool unclean)
    {
        unclean = false;
        if (topic.IsReassigning(partition))
        {
            var inTarget = Choose(state, topic.TargetOf(partition), false, isAlive, out _);
            if (inTarget >= 0) return inTarget;
        }
        return Choose(state, topic.ReplicasOf(partition), uncleanAllowed, isAlive, out unclean);
    }

    public static int Choose(PartitionState? state, ImmutableArray<int> replicas, bool uncleanAllowed, Func<int, bool> isAlive, out bool unclean)
    {
        unclean = false;
        var isr = state?.Isr ?? replicas;
        if (state is { Leader: >= 0 } && isr.Contains(state.Leader) && isAlive(state.Leader) && (replicas.IsEmpty || replicas.Contains(state.Leader)))
            return state.Leader;
        foreach (var replica in replicas)
            if (isr.Contains(replica) && isAlive(replica)) return replica;
        if (replicas.IsEmpty)
        {
            foreach (var member in isr)
                if (isAlive(member)) return member;
        }

        if (!uncleanAllowed) return -1;
        foreach (var replica in replicas)
        {
            if (!isAlive(replica)) continue;
            unclean = true;
            return replica;
        }
        return -1;
    }
}
