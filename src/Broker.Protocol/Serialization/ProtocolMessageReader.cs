using Broker.Protocol.Messages;

namespace Broker.Protocol.Serialization;

/// <summary>
/// Reads what <see cref="ProtocolMessageWriter"/> wrote. Throws <see cref="WireFormatException"/> on bad
/// bytes (BrokerSerializer turns that into a MalformedRequest). Topic names must be present; other
/// non-nullable strings read as "" if a sender left them null. Record batches come back as slices.
/// </summary>
internal static class ProtocolMessageReader
{
    // Smallest wire size of one list item, so a forged count is rejected before the array is allocated.
    private const int ProducePartitionDataMinBytes = 4 + 4 + 4;
    private const int ProducePartitionResultMinBytes = 4 + 4 + 2 + 4 + 8;
    private const int TopicSpecMinBytes = 4 + 4 + 2 + 4;
    private const int TopicResultMinBytes = 4 + 2 + 4;
    private const int PartitionReassignmentMinBytes = 4 + 4 + 4;
    private const int ReassignmentResultMinBytes = 4 + 4 + 2 + 4;
    private const int BrokerInfoMinBytes = 4 + 4 + 4 + 4 + 4;
    private const int TopicMetadataMinBytes = 4 + 4 + 2 + 4 + 2 + 4 + 4;
    private const int PartitionMetadataMinBytes = 4 + 4 + 8 + 8 + 2 + 4;
    private const int HostedPartitionMinBytes = 4 + 4 + 4;

    public static IBrokerMessage Read(ref WireReader r, string manifest)
    {
        switch (manifest)
        {
            case BrokerManifests.ProduceRequest:
            {
                var acks = r.ReadInt16();
                var timeout = r.ReadInt32();
                var n = r.ReadCount(ProducePartitionDataMinBytes);
                var parts = new ProducePartitionData[n];
                for (var i = 0; i < n; i++) parts[i] = new ProducePartitionData(ReadName(ref r), r.ReadInt32(), r.ReadBytesAsMemory());
                return new ProduceRequest(acks, timeout, parts);
            }
            case BrokerManifests.ProduceResponse:
            {
                var n = r.ReadCount(ProducePartitionResultMinBytes);
                var results = new ProducePartitionResult[n];
                for (var i = 0; i < n; i++)
                    results[i] = new ProducePartitionResult(ReadName(ref r), r.ReadInt32(), ReadError(ref r), r.ReadString(), r.ReadInt64());
                return new ProduceResponse(results);
            }
            case BrokerManifests.FetchRequest:
                return new FetchRequest(ReadName(ref r), r.ReadInt32(), r.ReadInt64(), r.ReadInt32(), r.ReadInt32())
                {
                    CurrentLeaderEpoch = r.ReadInt32(),
                    ClientRack = r.ReadString(),
                };
            case BrokerManifests.FetchRequestV1:
                return new FetchRequest(ReadName(ref r), r.ReadInt32(), r.ReadInt64(), r.ReadInt32(), r.ReadInt32());
            case BrokerManifests.FetchResponse:
            {
                var (topic, partition, error, message) = (ReadName(ref r), r.ReadInt32(), ReadError(ref r), r.ReadString());
                var (highWatermark, logStart, epoch) = (r.ReadInt64(), r.ReadInt64(), r.ReadInt32());
                return new FetchResponse(topic, partition, error, message, highWatermark, logStart, r.ReadBytesAsMemory()) { LeaderEpoch = epoch };
            }
            case BrokerManifests.FetchResponseV1:
                return new FetchResponse(ReadName(ref r), r.ReadInt32(), ReadError(ref r), r.ReadString(), r.ReadInt64(), r.ReadInt64(), r.ReadBytesAsMemory());
            case BrokerManifests.ListOffsetsRequest:
                return new ListOffsetsRequest(ReadName(ref r), r.ReadInt32(), r.ReadInt64());
            case BrokerManifests.ListOffsetsResponse:
                return new ListOffsetsResponse(ReadName(ref r), r.ReadInt32(), ReadError(ref r), r.ReadString(), r.ReadInt64(), r.ReadInt64());
            case BrokerManifests.CreateTopicsRequest:
            {
                var n = r.ReadCount(TopicSpecMinBytes);
                var specs = new TopicSpec[n];
                for (var i = 0; i < n; i++) specs[i] = new TopicSpec(ReadName(ref r), r.ReadInt32(), r.ReadInt16(), r.ReadStringMap());
                return new CreateTopicsRequest(specs);
            }
            case BrokerManifests.CreateTopicsResponse:
                return new CreateTopicsResponse(ReadTopicResults(ref r));
            case BrokerManifests.DeleteTopicsRequest:
                return new DeleteTopicsRequest(r.ReadStringList() ?? throw new WireFormatException("topic list is missing"));
            case BrokerManifests.DeleteTopicsResponse:
                return new DeleteTopicsResponse(ReadTopicResults(ref r));
            case BrokerManifests.DeleteRecordsRequest:
                return new DeleteRecordsRequest(ReadName(ref r), r.ReadInt32(), r.ReadInt64());
            case BrokerManifests.DeleteRecordsResponse:
                return new DeleteRecordsResponse(ReadName(ref r), r.ReadInt32(), ReadError(ref r), r.ReadString(), r.ReadInt64());
            case BrokerManifests.OffsetForLeaderEpochRequest:
                return new OffsetForLeaderEpochRequest(ReadName(ref r), r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
            case BrokerManifests.OffsetForLeaderEpochResponse:
                return new OffsetForLeaderEpochResponse(ReadName(ref r), r.ReadInt32(), ReadError(ref r), r.ReadString(), r.ReadInt32(), r.ReadInt64());
            case BrokerManifests.DescribeProducersRequest:
                return new DescribeProducersRequest(ReadName(ref r), r.ReadInt32());
            case BrokerManifests.DescribeProducersResponse:
            {
                var topic = ReadName(ref r);
                var partition = r.ReadInt32();
                var (error, message) = (ReadError(ref r), r.ReadString());
                var producers = new ProducerDescription[r.ReadCount(8 + 2 + 4 + 8)];
                for (var i = 0; i < producers.Length; i++) producers[i] = new ProducerDescription(r.ReadInt64(), r.ReadInt16(), r.ReadInt32(), r.ReadInt64());
                return new DescribeProducersResponse(topic, partition, error, message, producers);
            }
            case BrokerManifests.AlterTopicConfigsRequest:
            {
                var n = r.ReadCount(4 + 4);
                var topics = new TopicConfigAlteration[n];
                for (var i = 0; i < n; i++)
                {
                    var name = ReadName(ref r);
                    var changes = new TopicConfigChange[r.ReadCount(4 + 1 + 4)];
                    for (var j = 0; j < changes.Length; j++)
                    {
                        var key = ReadName(ref r);
                        var op = r.ReadByte();
                        if (op > (byte)ConfigOperation.Delete) throw new WireFormatException($"unknown config operation {op}");
                        changes[j] = new TopicConfigChange(key, (ConfigOperation)op, r.ReadString());
                    }
                    topics[i] = new TopicConfigAlteration(name, changes);
                }
                return new AlterTopicConfigsRequest(topics, r.ReadBool());
            }
            case BrokerManifests.AlterTopicConfigsResponse:
                return new AlterTopicConfigsResponse(ReadTopicResults(ref r));
            case BrokerManifests.CreatePartitionsRequest:
            {
                var n = r.ReadCount(4 + 4);
                var topics = new PartitionCountChange[n];
                for (var i = 0; i < n; i++) topics[i] = new PartitionCountChange(ReadName(ref r), r.ReadInt32());
                return new CreatePartitionsRequest(topics, r.ReadBool());
            }
            case BrokerManifests.CreatePartitionsResponse:
                return new CreatePartitionsResponse(ReadTopicResults(ref r));
            case BrokerManifests.MetadataRequest:
                return new MetadataRequest(r.ReadStringList());
            case BrokerManifests.MetadataResponse:
                return new MetadataResponse(ReadBrokers(ref r), ReadTopicMetadata(ref r, withReassignments: true));
            case BrokerManifests.MetadataResponseV1:
                return new MetadataResponse(ReadBrokers(ref r), ReadTopicMetadata(ref r, withReassignments: false));
            case BrokerManifests.ReassignPartitionsRequest:
            {
                var n = r.ReadCount(PartitionReassignmentMinBytes);
                var moves = new PartitionReassignment[n];
                for (var i = 0; i < n; i++) moves[i] = new PartitionReassignment(ReadName(ref r), r.ReadInt32(), r.ReadInt32List());
                return new ReassignPartitionsRequest(moves);
            }
            case BrokerManifests.ReassignPartitionsResponse:
            {
                var n = r.ReadCount(ReassignmentResultMinBytes);
                var results = new ReassignmentResult[n];
                for (var i = 0; i < n; i++) results[i] = new ReassignmentResult(ReadName(ref r), r.ReadInt32(), ReadError(ref r), r.ReadString());
                return new ReassignPartitionsResponse(results);
            }
            case BrokerManifests.InitProducerIdRequest:
                return new InitProducerIdRequest();
            case BrokerManifests.InitProducerIdResponse:
                return new InitProducerIdResponse(ReadError(ref r), r.ReadString(), r.ReadInt64(), r.ReadInt16());
            case BrokerManifests.ClusterStatusRequest:
                return new ClusterStatusRequest();
            case BrokerManifests.ClusterStatusResponse:
            {
                var brokers = ReadBrokers(ref r);
                var n = r.ReadCount(HostedPartitionMinBytes);
                var hosted = new HostedPartition[n];
                for (var i = 0; i < n; i++) hosted[i] = new HostedPartition(ReadName(ref r), r.ReadInt32(), r.ReadString() ?? "");
                return new ClusterStatusResponse(brokers, hosted);
            }
            case BrokerManifests.ErrorResponse:
                return new ErrorResponse(ReadError(ref r), r.ReadString());
            case BrokerManifests.MalformedRequest:
                return new MalformedRequest(r.ReadString() ?? "", r.ReadString() ?? "");
            case BrokerManifests.LoginRequest:
                return new LoginRequest(r.ReadString() ?? "", r.ReadString() ?? "");
            case BrokerManifests.LoginResponse:
                return new LoginResponse(ReadError(ref r), r.ReadString(), r.ReadString() ?? "");
            default:
                return GroupMessageReader.TryRead(ref r, manifest)
                    ?? throw new WireFormatException($"unknown message manifest '{manifest}'");
        }
    }

    private static string ReadName(ref WireReader r) => r.ReadString() ?? throw new WireFormatException("a required name is null");

    // Values outside the enum pass through: a newer node may know codes this build does not.
    private static ErrorCode ReadError(ref WireReader r) => (ErrorCode)r.ReadInt16();

    private static TopicResult[] ReadTopicResults(ref WireReader r)
    {
        var n = r.ReadCount(TopicResultMinBytes);
        var results = new TopicResult[n];
        for (var i = 0; i < n; i++) results[i] = new TopicResult(ReadName(ref r), ReadError(ref r), r.ReadString());
        return results;
    }

    private static BrokerInfo[] ReadBrokers(ref WireReader r)
    {
        var n = r.ReadCount(BrokerInfoMinBytes);
        var brokers = new BrokerInfo[n];
        for (var i = 0; i < n; i++)
            brokers[i] = new BrokerInfo(r.ReadString() ?? "", r.ReadString() ?? "", r.ReadInt32(), r.ReadStringList() ?? [], r.ReadString() ?? "") { NodeId = r.ReadInt32() };
        return brokers;
    }

    private static TopicMetadata[] ReadTopicMetadata(ref WireReader r, bool withReassignments)
    {
        var n = r.ReadCount(TopicMetadataMinBytes);
        var topics = new TopicMetadata[n];
        for (var i = 0; i < n; i++)
        {
            var name = ReadName(ref r);
            var id = r.ReadString() ?? "";
            var error = ReadError(ref r);
            var message = r.ReadString();
            var replication = r.ReadInt16();
            var configs = r.ReadStringMap();
            var pn = r.ReadCount(PartitionMetadataMinBytes);
            var partitions = new PartitionMetadata[pn];
            for (var p = 0; p < pn; p++)
            {
                partitions[p] = new PartitionMetadata(r.ReadInt32(), r.ReadString() ?? "", r.ReadInt64(), r.ReadInt64(), ReadError(ref r), r.ReadString())
                {
                    LeaderId = r.ReadInt32(),
                    LeaderEpoch = r.ReadInt32(),
                    HighWatermark = r.ReadInt64(),
                    Replicas = r.ReadInt32List(),
                    Isr = r.ReadInt32List(),
                    OfflineReplicas = r.ReadInt32List(),
                };
                if (withReassignments) partitions[p] = partitions[p] with { AddingReplicas = r.ReadInt32List(), RemovingReplicas = r.ReadInt32List() };
            }
            topics[i] = new TopicMetadata(name, id, error, message, replication, configs, partitions);
        }
        return topics;
    }
}
