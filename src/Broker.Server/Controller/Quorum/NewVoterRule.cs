namespace Broker.Server.Controller.Quorum;

/// <summary>
/// When a voter that is catching up (a new quorum directory: see <see cref="QuorumDirectory.Format"/>) may vote without
/// having caught up from a controller: only in a new cluster, which it recognises by every other voter answering that
/// its log is empty. A new directory is what a new cluster's voters have, and also what a voter whose disk was wiped
/// has; the two cannot be told apart on the node. A voter with a log is proof of a cluster that may have committed
/// something: then this voter waits for the controller to catch it up (<see cref="MetadataQuorum"/>). Asking every
/// voter, not a majority, keeps two wiped voters from starting a new log while the third, which holds the old one, is
/// down; the price is that a new cluster's quorum starts once all its voters have started.
/// </summary>
public static class NewVoterRule
{
    /// <param name="selfLastLogIndex">The last index of this voter's own log (0: empty).</param>
    /// <param name="otherVoters">The node ids of the other voters.</param>
    /// <param name="answers">What the voters that answered said, by node id.</param>
    public static NewVoterDecision Decide(long selfLastLogIndex, IReadOnlyCollection<int> otherVoters, IReadOnlyDictionary<int, VoterLogState> answers)
    {
        if (selfLastLogIndex > 0)
            return new WaitForCatchUp($"this voter's log already holds entries (up to index {selfLastLogIndex}): it was a voter of this cluster, so it catches up from the controller first");
        foreach (var voter in otherVoters)
        {
            if (answers.TryGetValue(voter, out var state) && state.LastLogIndex > 0)
                return new WaitForCatchUp($"voter {voter} holds a log (up to index {state.LastLogIndex}): the cluster exists, so this voter catches up from the controller first");
        }
        var silent = otherVoters.Where(v => !answers.ContainsKey(v)).Order().ToArray();
        if (silent.Length > 0)
            return new WaitForVoters(silent, $"no answer yet from voter(s) {string.Join(", ", silent)}: a new cluster's quorum starts once every voter has started and none holds a log");
        return new JoinNewCluster($"a new cluster: none of the voters ({string.Join(", ", otherVoters.Order())} and this one) holds a log");
    }
}

/// <summary>What <see cref="NewVoterRule.Decide"/> says a catching-up voter should do.</summary>
public abstract record NewVoterDecision(string Why);

/// <summary>Every voter answered with an empty log: vote now.</summary>
public sealed record JoinNewCluster(string Why) : NewVoterDecision(Why);

/// <summary>A log exists somewhere: keep not voting until the controller has caught this voter up.</summary>
public sealed record WaitForCatchUp(string Why) : NewVoterDecision(Why);

/// <summary>Some voters have not answered: ask again.</summary>
public sealed record WaitForVoters(IReadOnlyList<int> Silent, string Why) : NewVoterDecision(Why);
