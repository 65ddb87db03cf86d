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
    long CheckpointAfterRecords,
    ConsumerGroupSettings? ConsumerProtocol = null)
{
    /// <summary>The KIP-848 consumer protocol's settings (<c>broker.groups.consumer</c>); the defaults when not given.</summary>
    public ConsumerGroupSettings Consumer => ConsumerProtocol ?? ConsumerGroupSettings.Default;

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
        CheckpointAfterRecords: broker.GetLong("groups.checkpoint-after-records"),
        ConsumerProtocol: new ConsumerGroupSettings(
            Assignors: [.. broker.GetStringList("groups.consumer.assignors")],
            SessionTimeout: broker.GetTimeSpan("groups.consumer.session-timeout"),
            HeartbeatInterval: broker.GetTimeSpan("groups.consumer.heartbeat-interval")));
}

/// <summary>
/// KIP-848 consumer groups (ConsumerGroupHeartbeat): the server-side assignors offered, the first being the default
/// (Kafka's group.consumer.assignors), and the session timeout and heartbeat interval the coordinator imposes on
/// members (group.consumer.session.timeout.ms, group.consumer.heartbeat.interval.ms): in this protocol the broker
/// decides them, not the client.
/// </summary>
public sealed record ConsumerGroupSettings(IReadOnlyList<string> Assignors, TimeSpan SessionTimeout, TimeSpan HeartbeatInterval)
{
    /// <summary>Kafka's defaults: uniform then range, 45 s sessions, a heartbeat every 5 s.</summary>
    public static ConsumerGroupSettings Default { get; } = new(["uniform", "range"], TimeSpan.FromSeconds(45), TimeSpan.FromSeconds(5));
}
