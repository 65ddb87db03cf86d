using System.Collections.Immutable;
using Broker.Server.Metadata;

namespace Broker.Server.Partitions;

/// <summary>
/// Where a partition's leader may run (pure rules, used by <see cref="ReplicaAllocationStrategy"/>): only on an
/// in-sync replica that is alive, preferring the current leader, then the assignment order (preferred leader
/// first). With unclean.leader.election.enable, any live replica when no in-sync one is left. -1 means none:
/// the partition is offline until an in-sync replica comes back.
/// </summary>
public static class LeaderChoice
{
    public static int Choose(PartitionState? state, ImmutableArray<int> replicas, bool uncleanAllowed, Func<int, bool> isAlive, out bool unclean)
    {
        unclean = false;
        var isr = state?.Isr ?? replicas;
        if (state is { Leader: >= 0 } && isr.Contains(state.Leader) && isAlive(state.Leader)) return state.Leader;
        foreach (var replica in replicas)
            if (isr.Contains(replica) && isAlive(replica)) return replica;
        foreach (var member in isr)
            if (isAlive(member)) return member;
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
