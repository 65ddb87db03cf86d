using Akka.Configuration;

namespace Broker.Server.Groups;

/// <summary>Settings of the group coordinators, from <c>broker.groups</c>.</summary>
public sealed record GroupSettings(
    TimeSpan InitialRebalanceDelay,
    TimeSpan MinSessionTimeout,
    TimeSpan MaxSessionTimeout,
    int SnapshotEveryEvents,
    TimeSpan TickInterval,
    TimeSpan RegistryTimeout)
{
    /// <summary>How long a coordinator waits for the topic registry's answer before it asks again.</summary>
    private static readonly TimeSpan DefaultRegistryTimeout = TimeSpan.FromSeconds(10);

    public static GroupSettings Create(Config broker) => new(
        InitialRebalanceDelay: broker.GetTimeSpan("groups.initial-rebalance-delay"),
        MinSessionTimeout: broker.GetTimeSpan("groups.min-session-timeout"),
        MaxSessionTimeout: broker.GetTimeSpan("groups.max-session-timeout"),
        SnapshotEveryEvents: broker.GetInt("groups.snapshot-every-events"),
        TickInterval: broker.GetTimeSpan("groups.tick-interval"),
        // Not in reference.conf (owned by the replication work for now): the default lives here.
        RegistryTimeout: broker.HasPath("groups.registry-timeout") ? broker.GetTimeSpan("groups.registry-timeout") : DefaultRegistryTimeout);
}
