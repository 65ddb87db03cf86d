using Akka.Configuration;

namespace Broker.Server.Groups;

/// <summary>Settings of the group coordinators, from <c>broker.groups</c>.</summary>
public sealed record GroupSettings(
    TimeSpan InitialRebalanceDelay,
    TimeSpan MinSessionTimeout,
    TimeSpan MaxSessionTimeout,
    TimeSpan TickInterval,
    TimeSpan RegistryTimeout,
    int OffsetsTopicPartitions,
    TimeSpan WriteTimeout,
    TimeSpan LoadRetryInterval,
    TimeSpan CheckpointInterval,
    long CheckpointAfterRecords)
{
    public static GroupSettings Create(Config broker) => new(
        InitialRebalanceDelay: broker.GetTimeSpan("groups.initial-rebalance-delay"),
        MinSessionTimeout: broker.GetTimeSpan("groups.min-session-timeout"),
        MaxSessionTimeout: broker.GetTimeSpan("groups.max-session-timeout"),
        TickInterval: broker.GetTimeSpan("groups.tick-interval"),
        RegistryTimeout: broker.GetTimeSpan("groups.registry-timeout"),
        OffsetsTopicPartitions: broker.GetInt("groups.offsets-topic-partitions"),
        WriteTimeout: broker.GetTimeSpan("groups.write-timeout"),
        LoadRetryInterval: broker.GetTimeSpan("groups.load-retry-interval"),
        CheckpointInterval: broker.GetTimeSpan("groups.checkpoint-interval"),
        CheckpointAfterRecords: broker.GetLong("groups.checkpoint-after-records"));
}
