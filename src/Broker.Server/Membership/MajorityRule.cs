namespace Broker.Server.Membership;

/// <summary>
/// Akka's keep-majority rule, as the split-brain resolver applies it (broker.cluster's active-strategy): the side
/// with more than half of the members is kept; with exactly half, the side with the member of the lowest address.
/// A node uses it to know whether its own view of who is down is the one the cluster will act on.
/// </summary>
public static class MajorityRule
{
    public static bool IsKept(int reachable, int members, bool hasLowestAddress) =>
        members == 0 || reachable * 2 > members || (reachable * 2 == members && hasLowestAddress);
}
