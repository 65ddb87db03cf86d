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
    public static GroupSettings Create(Config broker) => new(
        InitialRebalanceDelay: broker.GetTimeSpan("groups.initial-rebalance-delay"),
        MinSessionTimeout: broker.GetTimeSpan("groups.min-session-timeout"),
        MaxSessionTimeout: broker.GetTimeSpan("groups.max-session-timeout"),
        SnapshotEveryEvents: broker.GetInt("groups.snapshot-every-events"),
        TickInterval: broker.GetTimeSpan("groups.tick-interval"),
        RegistryTimeout: broker.GetTimeSpan("groups.registry-timeout"));
}
