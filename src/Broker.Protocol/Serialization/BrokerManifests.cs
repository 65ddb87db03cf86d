namespace Broker.Protocol.Serialization;

/// <summary>
/// The manifest of each protocol message: short because one travels with every remote message, and
/// stable because it names the type on the wire. Never reuse or change one; add new ones.
/// </summary>
public static class BrokerManifests
{
    public const string ProduceRequest = "P";
    public const string ProduceResponse = "PR";
    public const string AppendBatch = "A";
    public const string AppendResult = "AR";
    public const string FetchRequest = "F";
    public const string FetchResponse = "FR";
    public const string ListOffsetsRequest = "LO";
    public const string ListOffsetsResponse = "LOR";
    public const string CreateTopicsRequest = "CT";
    public const string CreateTopicsResponse = "CTR";
    public const string DeleteTopicsRequest = "DT";
    public const string DeleteTopicsResponse = "DTR";
    public const string MetadataRequest = "M";
    public const string MetadataResponse = "MR";
    public const string ClusterStatusRequest = "CS";
    public const string ClusterStatusResponse = "CSR";
    public const string ErrorResponse = "E";
    public const string MalformedRequest = "X";
}
