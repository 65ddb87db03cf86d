using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Server.Groups;

namespace Broker.Server.Gateway;

/// <summary>
/// Answers ListGroups: the groups are the persistence ids under <c>group/</c> in the node's journal (read
/// with Akka.Persistence.Query), each asked for its state. A group lives in the journal from its first
/// generation or commit, so this lists exactly the groups that exist.
/// </summary>
internal static class GroupLister
{
    public static async Task<ListGroupsResponse> ListAsync(ActorSystem system, IActorRef groups, TimeSpan timeout)
    {
        try
        {
            var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
            var ids = await journal.CurrentPersistenceIds()
                .Where(id => id.StartsWith(GroupEntity.PersistencePrefix, StringComparison.Ordinal))
                .RunWith(Sink.Seq<string>(), system.Materializer())
                .WaitAsync(timeout).ConfigureAwait(false);

            var asks = new List<Task<DescribeGroupResponse>>(ids.Count);
            foreach (var id in ids)
                asks.Add(groups.Ask<DescribeGroupResponse>(new DescribeGroupRequest(id[GroupEntity.PersistencePrefix.Length..]), timeout));
            var listings = new List<GroupListing>(asks.Count);
            foreach (var ask in asks)
            {
                var d = await ask.ConfigureAwait(false);
                if (d.Error == ErrorCode.None) listings.Add(new GroupListing(d.GroupId, d.State, d.ProtocolType, d.Members.Count));
            }
            listings.Sort(static (a, b) => string.CompareOrdinal(a.GroupId, b.GroupId));
            return new ListGroupsResponse(ErrorCode.None, null, listings);
        }
        catch (Exception ex) when (ex is TimeoutException or AskTimeoutException)
        {
            return new ListGroupsResponse(ErrorCode.RequestTimedOut, $"listing groups took longer than {timeout.TotalSeconds:0}s; retry", []);
        }
    }
}
