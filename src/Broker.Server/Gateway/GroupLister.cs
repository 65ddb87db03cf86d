using Akka.Actor;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Groups;

namespace Broker.Server.Gateway;

/// <summary>
/// Answers ListGroups for the whole cluster from any node: every group lives in one partition of
/// <see cref="OffsetsTopic"/>, so the leader of each partition is asked for the groups it coordinates.
/// </summary>
internal static class GroupLister
{
    public static async Task<ListGroupsResponse> ListAsync(IActorRef partitions, int offsetsPartitions, TimeSpan timeout)
    {
        var asks = new List<Task<ListGroupsResponse>>(offsetsPartitions);
        for (var p = 0; p < offsetsPartitions; p++)
            asks.Add(partitions.Ask<ListGroupsResponse>(new ListCoordinatedGroups(OffsetsTopic.Name, p), timeout));
        var listings = new List<GroupListing>();
        for (var p = 0; p < asks.Count; p++)
        {
            ListGroupsResponse answer;
            try
            {
                answer = await asks[p].ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or AskTimeoutException)
            {
                answer = new ListGroupsResponse(ErrorCode.RequestTimedOut, $"no answer within {timeout.TotalSeconds:0}s", []);
            }
            if (answer.Error != ErrorCode.None)
            {
                return new ListGroupsResponse(answer.Error,
                    $"the coordinators of {OffsetsTopic.Name}/{p} did not list their groups ({answer.ErrorMessage}); its leader may be moving, retry", []);
            }
            listings.AddRange(answer.Groups);
        }
        listings.Sort(static (a, b) => string.CompareOrdinal(a.GroupId, b.GroupId));
        return new ListGroupsResponse(ErrorCode.None, null, listings);
    }
}
