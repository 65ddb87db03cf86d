using Broker.Protocol.Messages;

namespace Broker.Server.Groups;

/// <summary>A member of a group as the coordinator tracks it; mutable, owned by <see cref="GroupCoordinator"/>.</summary>
internal sealed class GroupMember(string memberId, string clientId)
{
    public string MemberId { get; } = memberId;
    public string ClientId { get; set; } = clientId;
    public int SessionTimeoutMs { get; set; }
    public int RebalanceTimeoutMs { get; set; }

    /// <summary>The protocols it supports, most preferred first.</summary>
    public IReadOnlyList<GroupProtocol> Protocols { get; set; } = [];

    /// <summary>Its assignment in the current generation (bytes, and the partitions they name for "consumer").</summary>
    public MemberAssignment Assignment { get; set; } = MemberAssignment.None;

    /// <summary>The coordinator's clock (milliseconds) after which its session has expired.</summary>
    public long SessionDeadline { get; private set; }

    /// <summary>It waits for its JoinGroupResponse while a rebalance gathers members (the actor keeps where to send it).</summary>
    public bool AwaitingJoin { get; set; }

    /// <summary>It waits for its SyncGroupResponse while the leader's assignment is awaited.</summary>
    public bool AwaitingSync { get; set; }

    public void Touch(long nowMs) => SessionDeadline = nowMs + SessionTimeoutMs;

    public byte[] MetadataFor(string protocol)
    {
        foreach (var p in Protocols)
            if (p.Name == protocol) return p.Metadata;
        return [];
    }

    public bool Supports(string protocol)
    {
        foreach (var p in Protocols)
            if (p.Name == protocol) return true;
        return false;
    }

    public bool SameProtocols(IReadOnlyList<GroupProtocol> other)
    {
        if (other.Count != Protocols.Count) return false;
        for (var i = 0; i < other.Count; i++)
        {
            if (other[i].Name != Protocols[i].Name || !other[i].Metadata.AsSpan().SequenceEqual(Protocols[i].Metadata)) return false;
        }
        return true;
    }
}
