namespace Broker.Protocol.Serialization;

/// <summary>
/// The manifest of each protocol message: short because one travels with every remote message, and
/// stable because it names the type on the wire. Never reuse or change one; add new ones.
/// </summary>
public static class BrokerManifests
{
    public const string ProduceRequest = "P";
    public const string ProduceResponse = "PR";
    public const string FetchRequest = "F2";
    public const string FetchResponse = "FR2";
    public const string FetchRequestV1 = "F"; // read only: before leader epochs and racks
    public const string FetchResponseV1 = "FR"; // read only: before leader epochs
    public const string ListOffsetsRequest = "LO";
    public const string ListOffsetsResponse = "LOR";
    public const string DeleteRecordsRequest = "DR";
    public const string DeleteRecordsResponse = "DRR";
    public const string OffsetForLeaderEpochRequest = "OLE";
    public const string OffsetForLeaderEpochResponse = "OLER";
    public const string DescribeProducersRequest = "DP";
    public const string DescribeProducersResponse = "DPR";
    public const string CreateTopicsRequest = "CT";
    public const string CreateTopicsResponse = "CTR";
    public const string DeleteTopicsRequest = "DT";
    public const string DeleteTopicsResponse = "DTR";
    public const string MetadataRequest = "M";
    public const string MetadataResponse = "MR2";
    public const string MetadataResponseV1 = "MR"; // read only: before reassignments (no adding/removing replicas)
    public const string ReassignPartitionsRequest = "RP";
    public const string ReassignPartitionsResponse = "RPR";
    public const string AlterTopicConfigsRequest = "ATC";
    public const string AlterTopicConfigsResponse = "ATCR";
    public const string CreatePartitionsRequest = "CP";
    public const string CreatePartitionsResponse = "CPR";
    public const string InitProducerIdRequest = "IP";
    public const string InitProducerIdResponse = "IPR";
    public const string ClusterStatusRequest = "CS";
    public const string ClusterStatusResponse = "CSR";
    public const string ErrorResponse = "E";
    public const string MalformedRequest = "X";
    public const string LoginRequest = "LI";
    public const string LoginResponse = "LIR";

    // Consumer groups
    public const string JoinGroupRequest = "JG";
    public const string JoinGroupResponse = "JGR";
    public const string SyncGroupRequest = "SG";
    public const string SyncGroupResponse = "SGR";
    public const string HeartbeatRequest = "HB";
    public const string HeartbeatResponse = "HBR";
    public const string LeaveGroupRequest = "LG";
    public const string LeaveGroupResponse = "LGR";
    public const string OffsetCommitRequest = "OC";
    public const string OffsetCommitRequestKeepingNegative = "OC2"; // KeepsNegativeOffsets set: OC's layout and a flag byte
    public const string OffsetCommitResponse = "OCR";
    public const string OffsetFetchRequest = "OF";
    public const string OffsetFetchResponse = "OFR";
    public const string DescribeGroupRequest = "DG";
    public const string DescribeGroupResponse = "DGR2";
    public const string DescribeGroupResponseV1 = "DGR"; // read only: before group types (every group classic)
    public const string ListGroupsRequest = "LGS";
    public const string ListGroupsResponse = "LGSR2";
    public const string ListGroupsResponseV1 = "LGSR"; // read only: before group types (every group classic)
    public const string DeleteGroupRequest = "DLG";
    public const string DeleteGroupResponse = "DLGR";
    public const string DeleteGroupOffsetsRequest = "DGO";
    public const string DeleteGroupOffsetsResponse = "DGOR";
    public const string ConsumerGroupHeartbeatRequest = "CGH";
    public const string ConsumerGroupHeartbeatResponse = "CGHR";
    public const string DescribeConsumerGroupRequest = "CGD";
    public const string DescribeConsumerGroupResponse = "CGDR";
}
