using System.Collections.Concurrent;
using Akka.Actor;

namespace Broker.Server.Groups;

/// <summary>
/// The <see cref="OffsetsTopic"/> partitions whose group coordinators run on this node now (a
/// <see cref="GroupPartitionActor"/> is alive here, beside the partition's leader entity), for the gateway's
/// <see cref="CoordinatorPlacement"/>: the node's metadata can lag the election that put the leader here, and a Kafka
/// client's request refused on the node that does lead comes back later, after newer ones.
/// </summary>
internal sealed class HostedGroupPartitions : IExtension
{
    private readonly ConcurrentDictionary<int, int> _hosts = new();

    public static HostedGroupPartitions Get(ActorSystem system) => system.WithExtension<HostedGroupPartitions, Provider>();

    public void Started(int partition) => _hosts.AddOrUpdate(partition, 1, static (_, n) => n + 1);

    public void Stopped(int partition) => _hosts.AddOrUpdate(partition, 0, static (_, n) => Math.Max(0, n - 1));

    public bool Contains(int partition) => _hosts.TryGetValue(partition, out var n) && n > 0;

    private sealed class Provider : ExtensionIdProvider<HostedGroupPartitions>
    {
        public override HostedGroupPartitions CreateExtension(ExtendedActorSystem system) => new();
    }
}
