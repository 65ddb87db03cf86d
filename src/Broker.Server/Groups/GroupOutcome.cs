using Broker.Protocol.Messages;
using Broker.Server.Serialization;

namespace Broker.Server.Groups;

/// <summary>Who a group coordinator's reply is for: the sender of the request at hand, or a member's parked join or sync.</summary>
internal enum ReplyTarget
{
    Requester,
    PendingJoin,
    PendingSync,
}

/// <summary>A reply the hosting actor sends once the outcome's events are persisted.</summary>
internal readonly record struct GroupReply(ReplyTarget To, string MemberId, IBrokerResponse Message);

/// <summary>
/// What a request did to a group (<see cref="GroupCoordinator"/>): journal events to persist, replies to send
/// after them, in order, and whether the requester waits for a later reply (a join or sync that completes with
/// the rebalance).
/// </summary>
internal sealed class GroupOutcome
{
    public List<IServerMessage> Events { get; } = [];

    public List<GroupReply> Replies { get; } = [];

    /// <summary>The requester waits: keep it as this member's pending join or sync until a reply names it.</summary>
    public (ReplyTarget Target, string MemberId)? Parked { get; set; }

    public GroupOutcome ToRequester(IBrokerResponse reply)
    {
        Replies.Add(new GroupReply(ReplyTarget.Requester, "", reply));
        return this;
    }

    public void ToPendingJoin(string memberId, JoinGroupResponse reply) => Replies.Add(new GroupReply(ReplyTarget.PendingJoin, memberId, reply));

    public void ToPendingSync(string memberId, SyncGroupResponse reply) => Replies.Add(new GroupReply(ReplyTarget.PendingSync, memberId, reply));
}
