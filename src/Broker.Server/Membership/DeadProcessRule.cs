using Akka.Cluster;

namespace Broker.Server.Membership;

/// <summary>
/// When to down a member without waiting for failure detection (pure rule). A SIGKILLed or crashed node's
/// connections are closed by its kernel at once, and a connection attempt to its port is then refused: nothing
/// listens there, so its process is gone. Failure detection (heartbeat 1 s, acceptable pause 2 s) and the split-brain
/// resolver's stable-after (3 s) would take about 7 s to conclude the same. A paused node still accepts connections
/// (its kernel does), and a network cut makes a connection attempt time out, not be refused; neither is a dead
/// process, and both are left to failure detection. Only a node on the side keep-majority keeps acts, as the resolver
/// would; a member that is leaving is left to leave.
/// </summary>
public static class DeadProcessRule
{
    /// <summary>Refused connection attempts, a short pause apart, before the member counts as dead (one could race a restart's bind).</summary>
    public const int RefusalsNeeded = 2;

    public static readonly TimeSpan ProbePause = TimeSpan.FromMilliseconds(300);

    public static bool ShouldDown(MemberStatus status, int refusals, bool seesMajority) =>
        status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining && refusals >= RefusalsNeeded && seesMajority;
}
