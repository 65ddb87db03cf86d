using Akka.Actor;
using Broker.Protocol.Messages;
using Broker.Server.Serialization;

namespace Broker.Server.Gateway;

// Messages of the gateway (GatewayActor.cs) besides the client requests of Broker.Protocol.

/// <summary>Gateway to gateway: which partitions does your node host? Replied with <see cref="HostedPartitionsReply"/>.</summary>
public sealed record GetHostedPartitions : IServerMessage
{
    public static readonly GetHostedPartitions Instance = new();
}

public sealed record HostedPartitionsReply(IReadOnlyList<HostedPartition> Partitions) : IServerMessage;

/// <summary>Local: a request that named a topic missing from the gateway's cache, retried once the registry answered.</summary>
internal sealed record RetryWithTopics(object Request, IActorRef ReplyTo, Metadata.TopicTable? Topics, Metadata.PartitionStateTable? States) : INoSerializationVerificationNeeded;

/// <summary>The gateway created (or found) __consumer_offsets for a group request; <paramref name="Problem"/> says why not.</summary>
internal sealed record OffsetsTopicCreated(IGroupMessage Request, string? Problem) : INoSerializationVerificationNeeded;

/// <summary>
/// From the Kafka listener: a group request served only if this node runs the group's coordinator as its metadata says
/// (<see cref="Groups.CoordinatorPlacement"/>), else answered NotCoordinator at once rather than forwarded, as Kafka does.
/// </summary>
internal sealed record AtCoordinatorOnly(IGroupMessage Request) : INoSerializationVerificationNeeded;

/// <summary>
/// From the Kafka listener, whose FindCoordinator found no live leader for a group's partition: send that partition's
/// shard a message that changes nothing, since sharding starts a dead leader's entity elsewhere (so elects a new
/// leader) only for a message to its shard, and Kafka clients send none there until a coordinator is named.
/// </summary>
internal sealed record WakeCoordinator(string GroupId) : INoSerializationVerificationNeeded;
