using Broker.Kafka.Messages;

namespace Broker.Server.Kafka;

/// <summary>One API the listener serves: the versions it advertises and those it actually answers.</summary>
internal sealed record KafkaApi(short Key, string Name, short MinAdvertised, short MaxAdvertised, short MinServed, Func<short, bool> IsFlexible)
{
    public bool Serves(short version) => version >= MinServed && version <= MaxAdvertised;

    /// <summary>Request header v2 in flexible versions, v1 otherwise.</summary>
    public short RequestHeaderVersion(short version) => IsFlexible(version) ? (short)2 : (short)1;

    /// <summary>Response header v1 in flexible versions, v0 otherwise; ApiVersions always v0 (KIP-511: a client that does not know our versions must read it).</summary>
    public short ResponseHeaderVersion(short version) => Key != ApiVersionsRequest.Api && IsFlexible(version) ? (short)1 : (short)0;
}

/// <summary>
/// The APIs and versions the listener advertises in ApiVersions: issue 8's table, raised to the newest
/// versions of the schemas (Kafka 4.x's, issue 15) so clients that speak only Kafka 3.5+ versions connect. Produce v0-2 are
/// advertised but answered with UNSUPPORTED_VERSION per partition: old librdkafka builds enable
/// compression only when Produce v0 is listed (as does Kafka 4, KAFKA-18659), and send v3+ anyway.
/// </summary>
internal static class KafkaApis
{
    public static readonly IReadOnlyList<KafkaApi> All =
    [
        new(ProduceRequest.Api, "Produce", 0, 11, 3, ProduceRequest.IsFlexible),
        new(FetchRequest.Api, "Fetch", 4, 17, 4, FetchRequest.IsFlexible),
        new(ListOffsetsRequest.Api, "ListOffsets", 1, 10, 1, ListOffsetsRequest.IsFlexible),
        new(MetadataRequest.Api, "Metadata", 0, 12, 0, MetadataRequest.IsFlexible),
        new(ApiVersionsRequest.Api, "ApiVersions", 0, 4, 0, ApiVersionsRequest.IsFlexible),
        new(CreateTopicsRequest.Api, "CreateTopics", 2, 7, 2, CreateTopicsRequest.IsFlexible),
        new(DeleteTopicsRequest.Api, "DeleteTopics", 1, 6, 1, DeleteTopicsRequest.IsFlexible),
        new(FindCoordinatorRequest.Api, "FindCoordinator", 0, 6, 0, FindCoordinatorRequest.IsFlexible),
        new(InitProducerIdRequest.Api, "InitProducerId", 0, 5, 0, InitProducerIdRequest.IsFlexible),
        new(OffsetCommitRequest.Api, "OffsetCommit", 2, 9, 2, OffsetCommitRequest.IsFlexible),
        new(OffsetFetchRequest.Api, "OffsetFetch", 1, 9, 1, OffsetFetchRequest.IsFlexible),
        new(JoinGroupRequest.Api, "JoinGroup", 0, 9, 0, JoinGroupRequest.IsFlexible),
        new(SyncGroupRequest.Api, "SyncGroup", 0, 5, 0, SyncGroupRequest.IsFlexible),
        new(HeartbeatRequest.Api, "Heartbeat", 0, 4, 0, HeartbeatRequest.IsFlexible),
        new(LeaveGroupRequest.Api, "LeaveGroup", 0, 5, 0, LeaveGroupRequest.IsFlexible),
        new(DescribeGroupsRequest.Api, "DescribeGroups", 0, 5, 0, DescribeGroupsRequest.IsFlexible),
        new(ListGroupsRequest.Api, "ListGroups", 0, 5, 0, ListGroupsRequest.IsFlexible),
        new(ConsumerGroupHeartbeatRequest.Api, "ConsumerGroupHeartbeat", 0, 1, 0, ConsumerGroupHeartbeatRequest.IsFlexible),
        new(ConsumerGroupDescribeRequest.Api, "ConsumerGroupDescribe", 0, 0, 0, ConsumerGroupDescribeRequest.IsFlexible),
        new(CreatePartitionsRequest.Api, "CreatePartitions", 0, 3, 0, CreatePartitionsRequest.IsFlexible),
        new(DescribeConfigsRequest.Api, "DescribeConfigs", 0, 4, 0, DescribeConfigsRequest.IsFlexible),
        new(AlterPartitionReassignmentsRequest.Api, "AlterPartitionReassignments", 0, 0, 0, AlterPartitionReassignmentsRequest.IsFlexible),
        new(ListPartitionReassignmentsRequest.Api, "ListPartitionReassignments", 0, 0, 0, ListPartitionReassignmentsRequest.IsFlexible),
        new(IncrementalAlterConfigsRequest.Api, "IncrementalAlterConfigs", 0, 1, 0, IncrementalAlterConfigsRequest.IsFlexible),
        new(ElectLeadersRequest.Api, "ElectLeaders", 0, 2, 0, ElectLeadersRequest.IsFlexible),
        new(DescribeClusterRequest.Api, "DescribeCluster", 0, 1, 0, DescribeClusterRequest.IsFlexible),
        new(OffsetForLeaderEpochRequest.Api, "OffsetForLeaderEpoch", 0, 4, 0, OffsetForLeaderEpochRequest.IsFlexible),
        new(DeleteRecordsRequest.Api, "DeleteRecords", 0, 2, 0, DeleteRecordsRequest.IsFlexible),
        new(DescribeProducersRequest.Api, "DescribeProducers", 0, 0, 0, DescribeProducersRequest.IsFlexible),
        new(DeleteGroupsRequest.Api, "DeleteGroups", 0, 2, 0, DeleteGroupsRequest.IsFlexible),
        new(OffsetDeleteRequest.Api, "OffsetDelete", 0, 0, 0, OffsetDeleteRequest.IsFlexible),
        new(DescribeAclsRequest.Api, "DescribeAcls", 1, 3, 1, DescribeAclsRequest.IsFlexible),
        new(CreateAclsRequest.Api, "CreateAcls", 1, 3, 1, CreateAclsRequest.IsFlexible),
        new(DeleteAclsRequest.Api, "DeleteAcls", 1, 3, 1, DeleteAclsRequest.IsFlexible),
        new(DescribeUserScramCredentialsRequest.Api, "DescribeUserScramCredentials", 0, 0, 0, DescribeUserScramCredentialsRequest.IsFlexible),
        new(AlterUserScramCredentialsRequest.Api, "AlterUserScramCredentials", 0, 0, 0, AlterUserScramCredentialsRequest.IsFlexible),
        new(SaslHandshakeRequest.Api, "SaslHandshake", 0, 1, 0, SaslHandshakeRequest.IsFlexible),
        new(SaslAuthenticateRequest.Api, "SaslAuthenticate", 0, 2, 0, SaslAuthenticateRequest.IsFlexible),
    ];

    private static readonly KafkaApi?[] ByKey = BuildIndex();

    public static KafkaApi? Find(short key) => key >= 0 && key < ByKey.Length ? ByKey[key] : null;

    private static KafkaApi?[] BuildIndex()
    {
        var index = new KafkaApi?[All.Max(a => a.Key) + 1];
        foreach (var api in All) index[api.Key] = api;
        return index;
    }
}
