using Akka.Cluster;

namespace Broker.Server.Membership;

/// <summary>Finding one incarnation of a node in a cluster state's member sets.</summary>
internal static class MemberLookup
{
    /// <summary>
    /// The member with <paramref name="address"/> among <paramref name="members"/>, or null. By unique address: a node
    /// restarted on the same host and port is another incarnation, and must not be taken for the one it replaced.
    /// </summary>
    public static Member? At(IEnumerable<Member> members, UniqueAddress address)
    {
        foreach (var member in members)
            if (member.UniqueAddress.Equals(address)) return member;
        return null;
    }
}
