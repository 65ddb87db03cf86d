using Broker.Protocol;

namespace Broker.Server.Kafka;

/// <summary>Kafka's numeric error codes for the broker's typed errors, so Kafka clients retry what is retriable.</summary>
internal static class KafkaErrors
{
    public const short None = 0;
    public const short UnknownServerError = -1;
    public const short OffsetOutOfRange = 1;
    public const short CorruptMessage = 2;
    public const short UnknownTopicOrPartition = 3;
    public const short LeaderNotAvailable = 5;
    public const short NotLeaderOrFollower = 6;
    public const short RequestTimedOut = 7;
    public const short BrokerNotAvailable = 8;
    public const short MessageTooLarge = 10;
    public const short CoordinatorNotAvailable = 15;
    public const short NotCoordinator = 16;
    public const short InvalidTopic = 17;
    public const short NotEnoughReplicas = 19;
    public const short NotEnoughReplicasAfterAppend = 20;
    public const short InvalidRequiredAcks = 21;
    public const short IllegalGeneration = 22;
    public const short InconsistentGroupProtocol = 23;
    public const short InvalidGroupId = 24;
    public const short UnknownMemberId = 25;
    public const short InvalidSessionTimeout = 26;
    public const short RebalanceInProgress = 27;
    public const short InvalidCommitOffsetSize = 28;
    public const short UnsupportedVersion = 35;
    public const short OutOfOrderSequenceNumber = 45;
    public const short InvalidProducerEpoch = 47;
    public const short TopicAlreadyExists = 36;
    public const short InvalidPartitions = 37;
    public const short InvalidReplicationFactor = 38;
    public const short InvalidReplicaAssignment = 39;
    public const short InvalidConfig = 40;
    public const short InvalidRequest = 42;
    public const short UnsupportedSaslMechanism = 33;
    public const short SaslAuthenticationFailed = 58;
    public const short ReassignmentInProgress = 60;
    public const short NonEmptyGroup = 68;
    public const short GroupIdNotFound = 69;
    public const short FetchSessionIdNotFound = 70;
    public const short InvalidFetchSessionEpoch = 71;
    public const short PreferredLeaderNotAvailable = 80;
    public const short EligibleLeadersNotAvailable = 83;
    public const short ElectionNotNeeded = 84;
    public const short FencedLeaderEpoch = 74;
    public const short UnsupportedCompressionType = 76;
    public const short InvalidTimestamp = 32;
    public const short TopicAuthorizationFailed = 29;
    public const short ResourceNotFound = 91;
    public const short UnacceptableCredential = 93;
    public const short GroupAuthorizationFailed = 30;
    public const short ClusterAuthorizationFailed = 31;
    public const short GroupSubscribedToTopic = 86;
    public const short InvalidRecord = 87;
    public const short UnknownTopicId = 100;
    public const short UnsupportedEndpointType = 115;
    public const short FencedMemberEpoch = 110;
    public const short UnsupportedAssignor = 112;
    public const short StaleMemberEpoch = 113;

    public static short From(ErrorCode error) => error switch
    {
        ErrorCode.None => None,
        ErrorCode.UnknownTopic or ErrorCode.UnknownPartition => UnknownTopicOrPartition,
        ErrorCode.TopicAlreadyExists => TopicAlreadyExists,
        ErrorCode.InvalidPartitions => InvalidPartitions,
        ErrorCode.InvalidRequest => InvalidRequest,
        ErrorCode.RecordTooLarge => MessageTooLarge,
        ErrorCode.OffsetOutOfRange => OffsetOutOfRange,
        ErrorCode.NotLeader => NotLeaderOrFollower,
        ErrorCode.RequestTimedOut => RequestTimedOut,
        ErrorCode.CorruptRecord => CorruptMessage,
        ErrorCode.InvalidTopic => InvalidTopic,
        ErrorCode.InvalidConfig => InvalidConfig,
        ErrorCode.InvalidReplicationFactor => InvalidReplicationFactor,
        ErrorCode.UnsupportedCompression => UnsupportedCompressionType,
        ErrorCode.BrokerNotAvailable => BrokerNotAvailable,
        ErrorCode.UnknownGroup => GroupIdNotFound,
        ErrorCode.UnknownMemberId => UnknownMemberId,
        ErrorCode.IllegalGeneration => IllegalGeneration,
        ErrorCode.RebalanceInProgress => RebalanceInProgress,
        ErrorCode.PartitionNotAssigned => IllegalGeneration,
        ErrorCode.InvalidOffset => InvalidCommitOffsetSize,
        ErrorCode.NonEmptyGroup => NonEmptyGroup,
        ErrorCode.GroupSubscribedToTopic => GroupSubscribedToTopic,
        ErrorCode.InconsistentGroupProtocol => InconsistentGroupProtocol,
        ErrorCode.InvalidSessionTimeout => InvalidSessionTimeout,
        ErrorCode.InvalidGroupId => InvalidGroupId,
        ErrorCode.NotCoordinator => NotCoordinator,
        ErrorCode.NotEnoughReplicas => NotEnoughReplicas,
        ErrorCode.NotEnoughReplicasAfterAppend => NotEnoughReplicasAfterAppend,
        ErrorCode.FencedLeaderEpoch => FencedLeaderEpoch,
        ErrorCode.LeaderNotAvailable => LeaderNotAvailable,
        ErrorCode.InvalidReplicaAssignment => InvalidReplicaAssignment,
        ErrorCode.ReassignmentInProgress => ReassignmentInProgress,
        ErrorCode.OutOfOrderSequence => OutOfOrderSequenceNumber,
        ErrorCode.InvalidProducerEpoch => InvalidProducerEpoch,
        ErrorCode.InvalidRecord => InvalidRecord,
        ErrorCode.InvalidTimestamp => InvalidTimestamp,
        ErrorCode.FencedMemberEpoch => FencedMemberEpoch,
        ErrorCode.StaleMemberEpoch => StaleMemberEpoch,
        ErrorCode.UnsupportedAssignor => UnsupportedAssignor,
        ErrorCode.AuthenticationFailed => SaslAuthenticationFailed,
        ErrorCode.TopicAuthorizationFailed => TopicAuthorizationFailed,
        ErrorCode.GroupAuthorizationFailed => GroupAuthorizationFailed,
        ErrorCode.ClusterAuthorizationFailed => ClusterAuthorizationFailed,
        _ => UnknownServerError,
    };
}
