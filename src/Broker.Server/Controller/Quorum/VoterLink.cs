using Akka.Actor;
using Akka.Cluster;
using Broker.Server.Membership;
using Broker.Server.Metadata;

namespace Broker.Server.Controller.Quorum;

/// <summary>
/// An observer's way to the voters, over the cluster's own Akka.Remote connections (authenticated like every other
/// node-to-node message): asks the <see cref="MetadataServerActor"/> of a voter that is a cluster member, sticking to
/// the one that last answered and trying the others when it does not.
/// </summary>
internal sealed class VoterLink(ActorSystem system, IReadOnlySet<int> voterIds, TimeSpan timeout) : IVoterLink
{
    private static readonly TimeSpan NoVoterBackoff = TimeSpan.FromMilliseconds(200);
    private readonly Cluster _cluster = Cluster.Get(system);
    private volatile Address? _preferred;

    public async Task<MetadataFetched> FetchAsync(MetadataFetch fetch, CancellationToken ct)
    {
        var voters = Voters();
        if (voters.Count == 0) throw new MetadataUnavailableException($"no voter ({string.Join(", ", voterIds)}) is a cluster member yet");
        var reasons = new List<string>();
        foreach (var voter in voters)
        {
            try
            {
                var answer = await Server(voter).Ask<object>(fetch, timeout + TimeSpan.FromMilliseconds(fetch.WaitMs), ct).ConfigureAwait(false);
                switch (answer)
                {
                    case MetadataFetched fetched:
                        _preferred = voter;
                        return fetched;
                    case MetadataUnavailable unavailable:
                        reasons.Add(unavailable.Reason);
                        break;
                }
            }
            catch (AskTimeoutException)
            {
                reasons.Add($"{voter} did not answer within {timeout.TotalSeconds:0.#}s");
            }
        }
        throw new MetadataUnavailableException($"no voter could serve the metadata: {string.Join("; ", reasons)}");
    }

    public async Task<MetadataResult> ProposeAsync(byte[] record, CancellationToken ct)
    {
        while (true)
        {
            var voters = Voters();
            if (voters.Count == 0)
            {
                await Task.Delay(NoVoterBackoff, ct).ConfigureAwait(false);
                continue;
            }
            var voter = voters[0];
            try
            {
                // The voter bounds its own attempt by the same timeout and then answers OutcomeUnknown; the extra
                // margin covers the round trip.
                var proposed = await Server(voter).Ask<MetadataProposed>(new MetadataPropose(record), timeout + timeout, ct).ConfigureAwait(false);
                _preferred = voter;
                return MetadataCodec.DecodeResult(proposed.Result);
            }
            catch (AskTimeoutException)
            {
                _preferred = null;
                return new Refused(MetadataError.OutcomeUnknown, $"voter at {voter} did not answer a proposal in time; read the metadata and retry if it did not apply");
            }
        }
    }

    private ActorSelection Server(Address voter) => system.ActorSelection(new RootActorPath(voter) / "user" / MetadataServerActor.Name);

    /// <summary>The voters that are cluster members, the one that answered last first.</summary>
    private List<Address> Voters()
    {
        var preferred = _preferred;
        var voters = new List<Address>();
        foreach (var member in _cluster.State.Members)
        {
            if (member.Status is not (MemberStatus.Up or MemberStatus.WeaklyUp) || !voterIds.Contains(NodeIdentity.Of(member))) continue;
            if (member.Address.Equals(preferred)) voters.Insert(0, member.Address);
            else voters.Add(member.Address);
        }
        return voters;
    }
}
