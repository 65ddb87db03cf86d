using Akka.Actor;
using Akka.Serialization;
using Broker.Protocol.Messages;

namespace Broker.Protocol.Serialization;

/// <summary>
/// Hand-written binary serializer for every <see cref="IBrokerMessage"/> (bound in protocol.conf). Record
/// batches are copied once into the frame when sent and read back as slices of the received frame.
/// Reading never throws: unreadable bytes or an unknown manifest become a <see cref="MalformedRequest"/>
/// that the gateway answers with InvalidRequest, so a broken client cannot break the association.
/// </summary>
public sealed class BrokerSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 4100;

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        ProduceRequest => BrokerManifests.ProduceRequest,
        ProduceResponse => BrokerManifests.ProduceResponse,
        FetchRequest => BrokerManifests.FetchRequest,
        FetchResponse => BrokerManifests.FetchResponse,
        ListOffsetsRequest => BrokerManifests.ListOffsetsRequest,
        ListOffsetsResponse => BrokerManifests.ListOffsetsResponse,
        DeleteRecordsRequest => BrokerManifests.DeleteRecordsRequest,
        DeleteRecordsResponse => BrokerManifests.DeleteRecordsResponse,
        OffsetForLeaderEpochRequest => BrokerManifests.OffsetForLeaderEpochRequest,
        OffsetForLeaderEpochResponse => BrokerManifests.OffsetForLeaderEpochResponse,
        DescribeProducersRequest => BrokerManifests.DescribeProducersRequest,
        DescribeProducersResponse => BrokerManifests.DescribeProducersResponse,
        CreateTopicsRequest => BrokerManifests.CreateTopicsRequest,
        CreateTopicsResponse => BrokerManifests.CreateTopicsResponse,
        DeleteTopicsRequest => BrokerManifests.DeleteTopicsRequest,
        DeleteTopicsResponse => BrokerManifests.DeleteTopicsResponse,
        MetadataRequest => BrokerManifests.MetadataRequest,
        MetadataResponse => BrokerManifests.MetadataResponse,
        ReassignPartitionsRequest => BrokerManifests.ReassignPartitionsRequest,
        ReassignPartitionsResponse => BrokerManifests.ReassignPartitionsResponse,
        AlterTopicConfigsRequest => BrokerManifests.AlterTopicConfigsRequest,
        AlterTopicConfigsResponse => BrokerManifests.AlterTopicConfigsResponse,
        CreatePartitionsRequest => BrokerManifests.CreatePartitionsRequest,
        CreatePartitionsResponse => BrokerManifests.CreatePartitionsResponse,
        InitProducerIdRequest => BrokerManifests.InitProducerIdRequest,
        InitProducerIdResponse => BrokerManifests.InitProducerIdResponse,
        ClusterStatusRequest => BrokerManifests.ClusterStatusRequest,
        ClusterStatusResponse => BrokerManifests.ClusterStatusResponse,
        ErrorResponse => BrokerManifests.ErrorResponse,
        MalformedRequest => BrokerManifests.MalformedRequest,
        LoginRequest => BrokerManifests.LoginRequest,
        LoginResponse => BrokerManifests.LoginResponse,
        JoinGroupRequest => BrokerManifests.JoinGroupRequest,
        JoinGroupResponse => BrokerManifests.JoinGroupResponse,
        SyncGroupRequest => BrokerManifests.SyncGroupRequest,
        SyncGroupResponse => BrokerManifests.SyncGroupResponse,
        HeartbeatRequest => BrokerManifests.HeartbeatRequest,
        HeartbeatResponse => BrokerManifests.HeartbeatResponse,
        LeaveGroupRequest => BrokerManifests.LeaveGroupRequest,
        LeaveGroupResponse => BrokerManifests.LeaveGroupResponse,
        OffsetCommitRequest { KeepsNegativeOffsets: true } => BrokerManifests.OffsetCommitRequestKeepingNegative,
        OffsetCommitRequest => BrokerManifests.OffsetCommitRequest,
        OffsetCommitResponse => BrokerManifests.OffsetCommitResponse,
        OffsetFetchRequest => BrokerManifests.OffsetFetchRequest,
        OffsetFetchResponse => BrokerManifests.OffsetFetchResponse,
        DescribeGroupRequest => BrokerManifests.DescribeGroupRequest,
        DescribeGroupResponse => BrokerManifests.DescribeGroupResponse,
        ListGroupsRequest => BrokerManifests.ListGroupsRequest,
        ListGroupsResponse => BrokerManifests.ListGroupsResponse,
        DeleteGroupRequest => BrokerManifests.DeleteGroupRequest,
        DeleteGroupResponse => BrokerManifests.DeleteGroupResponse,
        DeleteGroupOffsetsRequest => BrokerManifests.DeleteGroupOffsetsRequest,
        DeleteGroupOffsetsResponse => BrokerManifests.DeleteGroupOffsetsResponse,
        ConsumerGroupHeartbeatRequest => BrokerManifests.ConsumerGroupHeartbeatRequest,
        ConsumerGroupHeartbeatResponse => BrokerManifests.ConsumerGroupHeartbeatResponse,
        DescribeConsumerGroupRequest => BrokerManifests.DescribeConsumerGroupRequest,
        DescribeConsumerGroupResponse => BrokerManifests.DescribeConsumerGroupResponse,
        _ => throw new ArgumentException($"BrokerSerializer cannot serialize {o.GetType()}"),
    };

    /// <summary>Throws only for a type this serializer does not know: that is a bug, not bad input.</summary>
    public override byte[] ToBinary(object obj) => ProtocolMessageWriter.Write(obj);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        manifest ??= "";
        try
        {
            var r = new WireReader(bytes ?? throw new WireFormatException("no bytes"));
            var message = ProtocolMessageReader.Read(ref r, manifest);
            r.EnsureEnd();
            return message;
        }
        catch (WireFormatException ex)
        {
            return new MalformedRequest(manifest, ex.Message);
        }
        catch (Exception ex)
        {
            // Anything else is our bug, but throwing here would make Akka.Remote drop the message (or the
            // association) silently; a typed reply shows the client and the log what happened.
            return new MalformedRequest(manifest, $"{ex.GetType().Name}: {ex.Message}");
        }
    }
}
