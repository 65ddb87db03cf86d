using Akka.Actor;
using Akka.Serialization;
using Broker.Protocol.Messages;

namespace Broker.Protocol.Serialization;

/// <summary>
/// Hand-written binary serializer for every client-facing message (IBrokerMessage). Record batches are
/// copied once into the frame when sent and read back as slices of the received frame. Reading never
/// throws for our manifests: unreadable bytes become a <see cref="MalformedRequest"/> that the gateway
/// answers with InvalidRequest, so a broken client cannot break the association.
/// </summary>
public sealed class BrokerSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 4100;

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        ProduceRequest => "P",
        ProduceResponse => "PR",
        AppendBatch => "A",
        AppendResult => "AR",
        FetchRequest => "F",
        FetchResponse => "FR",
        ListOffsetsRequest => "LO",
        ListOffsetsResponse => "LOR",
        CreateTopicsRequest => "CT",
        CreateTopicsResponse => "CTR",
        DeleteTopicsRequest => "DT",
        DeleteTopicsResponse => "DTR",
        MetadataRequest => "M",
        MetadataResponse => "MR",
        ClusterStatusRequest => "CS",
        ClusterStatusResponse => "CSR",
        ErrorResponse => "E",
        MalformedRequest => "X",
        _ => throw new ArgumentException($"BrokerSerializer cannot serialize {o.GetType()}"),
    };

    public override byte[] ToBinary(object o)
    {
        var w = new WireWriter(InitialSize(o));
        switch (o)
        {
            case ProduceRequest p:
                w.WriteInt16(p.Acks);
                w.WriteInt32(p.TimeoutMs);
                w.WriteCount(p.Partitions.Count);
                foreach (var part in p.Partitions)
                {
                    w.WriteString(part.Topic);
                    w.WriteInt32(part.Partition);
                    w.WriteBytes(part.Batch.Span);
                }
                break;
            case ProduceResponse p:
                w.WriteCount(p.Results.Count);
                foreach (var r in p.Results)
                {
                    w.WriteString(r.Topic);
                    w.WriteInt32(r.Partition);
                    w.WriteInt16((short)r.Error);
                    w.WriteString(r.ErrorMessage);
                    w.WriteInt64(r.BaseOffset);
                }
                break;
            case AppendBatch a:
                w.WriteString(a.Topic);
                w.WriteInt32(a.Partition);
                w.WriteBytes(a.Batch.Span);
                break;
            case AppendResult a:
                w.WriteString(a.Topic);
                w.WriteInt32(a.Partition);
                w.WriteInt16((short)a.Error);
                w.WriteString(a.ErrorMessage);
                w.WriteInt64(a.BaseOffset);
                break;
            case FetchRequest f:
                w.WriteString(f.Topic);
                w.WriteInt32(f.Partition);
                w.WriteInt64(f.Offset);
                w.WriteInt32(f.MaxBytes);
                w.WriteInt32(f.MaxWaitMs);
                break;
            case FetchResponse f:
                w.WriteString(f.Topic);
                w.WriteInt32(f.Partition);
                w.WriteInt16((short)f.Error);
                w.WriteString(f.ErrorMessage);
                w.WriteInt64(f.HighWatermark);
                w.WriteInt64(f.LogStartOffset);
                w.WriteBytes(f.Records.Span);
                break;
            case ListOffsetsRequest l:
                w.WriteString(l.Topic);
                w.WriteInt32(l.Partition);
                w.WriteInt64(l.Timestamp);
                break;
            case ListOffsetsResponse l:
                w.WriteString(l.Topic);
                w.WriteInt32(l.Partition);
                w.WriteInt16((short)l.Error);
                w.WriteString(l.ErrorMessage);
                w.WriteInt64(l.Offset);
                w.WriteInt64(l.Timestamp);
                break;
            case CreateTopicsRequest c:
                w.WriteCount(c.Topics.Count);
                foreach (var t in c.Topics)
                {
                    w.WriteString(t.Name);
                    w.WriteInt32(t.Partitions);
                    w.WriteInt16(t.ReplicationFactor);
                    w.WriteStringMap(t.Configs);
                }
                break;
            case CreateTopicsResponse c:
                WriteTopicResults(w, c.Results);
                break;
            case DeleteTopicsRequest d:
                w.WriteStringList(d.Topics);
                break;
            case DeleteTopicsResponse d:
                WriteTopicResults(w, d.Results);
                break;
            case MetadataRequest m:
                w.WriteStringList(m.Topics);
                break;
            case MetadataResponse m:
                WriteBrokers(w, m.Brokers);
                w.WriteCount(m.Topics.Count);
                foreach (var t in m.Topics)
                {
                    w.WriteString(t.Name);
                    w.WriteString(t.TopicId);
                    w.WriteInt16((short)t.Error);
                    w.WriteString(t.ErrorMessage);
                    w.WriteInt16(t.ReplicationFactor);
                    w.WriteStringMap(t.Configs);
                    w.WriteCount(t.Partitions.Count);
                    foreach (var p in t.Partitions)
                    {
                        w.WriteInt32(p.Partition);
                        w.WriteString(p.Leader);
                        w.WriteInt64(p.LogStartOffset);
                        w.WriteInt64(p.LogEndOffset);
                        w.WriteInt16((short)p.Error);
                        w.WriteString(p.ErrorMessage);
                    }
                }
                break;
            case ClusterStatusRequest:
                break;
            case ClusterStatusResponse c:
                WriteBrokers(w, c.Brokers);
                w.WriteCount(c.Partitions.Count);
                foreach (var p in c.Partitions)
                {
                    w.WriteString(p.Topic);
                    w.WriteInt32(p.Partition);
                    w.WriteString(p.Address);
                }
                break;
            case ErrorResponse e:
                w.WriteInt16((short)e.Error);
                w.WriteString(e.ErrorMessage);
                break;
            case MalformedRequest x:
                w.WriteString(x.Manifest);
                w.WriteString(x.Reason);
                break;
            default:
                throw new ArgumentException($"BrokerSerializer cannot serialize {o.GetType()}");
        }
        return w.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        try
        {
            var r = new WireReader(bytes);
            var message = Read(ref r, manifest);
            r.EnsureEnd();
            return message;
        }
        catch (Exception ex) when (ex is WireFormatException or ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            return new MalformedRequest(manifest, ex.Message);
        }
    }

    private static object Read(ref WireReader r, string manifest)
    {
        switch (manifest)
        {
            case "P":
            {
                var acks = r.ReadInt16();
                var timeout = r.ReadInt32();
                var n = r.ReadCount(12);
                var parts = new ProducePartitionData[n];
                for (var i = 0; i < n; i++) parts[i] = new ProducePartitionData(ReadName(ref r), r.ReadInt32(), r.ReadBytesAsMemory());
                return new ProduceRequest(acks, timeout, parts);
            }
            case "PR":
            {
                var n = r.ReadCount(22);
                var results = new ProducePartitionResult[n];
                for (var i = 0; i < n; i++)
                    results[i] = new ProducePartitionResult(ReadName(ref r), r.ReadInt32(), ReadError(ref r), r.ReadString(), r.ReadInt64());
                return new ProduceResponse(results);
            }
            case "A":
                return new AppendBatch(ReadName(ref r), r.ReadInt32(), r.ReadBytesAsMemory());
            case "AR":
                return new AppendResult(ReadName(ref r), r.ReadInt32(), ReadError(ref r), r.ReadString(), r.ReadInt64());
            case "F":
                return new FetchRequest(ReadName(ref r), r.ReadInt32(), r.ReadInt64(), r.ReadInt32(), r.ReadInt32());
            case "FR":
                return new FetchResponse(ReadName(ref r), r.ReadInt32(), ReadError(ref r), r.ReadString(), r.ReadInt64(), r.ReadInt64(), r.ReadBytesAsMemory());
            case "LO":
                return new ListOffsetsRequest(ReadName(ref r), r.ReadInt32(), r.ReadInt64());
            case "LOR":
                return new ListOffsetsResponse(ReadName(ref r), r.ReadInt32(), ReadError(ref r), r.ReadString(), r.ReadInt64(), r.ReadInt64());
            case "CT":
            {
                var n = r.ReadCount(14);
                var specs = new TopicSpec[n];
                for (var i = 0; i < n; i++) specs[i] = new TopicSpec(ReadName(ref r), r.ReadInt32(), r.ReadInt16(), r.ReadStringMap());
                return new CreateTopicsRequest(specs);
            }
            case "CTR":
                return new CreateTopicsResponse(ReadTopicResults(ref r));
            case "DT":
                return new DeleteTopicsRequest(r.ReadStringList() ?? throw new WireFormatException("topic list is missing"));
            case "DTR":
                return new DeleteTopicsResponse(ReadTopicResults(ref r));
            case "M":
                return new MetadataRequest(r.ReadStringList());
            case "MR":
            {
                var brokers = ReadBrokers(ref r);
                var n = r.ReadCount(20);
                var topics = new TopicMetadata[n];
                for (var i = 0; i < n; i++)
                {
                    var name = ReadName(ref r);
                    var id = r.ReadString() ?? "";
                    var error = ReadError(ref r);
                    var message = r.ReadString();
                    var replication = r.ReadInt16();
                    var configs = r.ReadStringMap();
                    var pn = r.ReadCount(30);
                    var partitions = new PartitionMetadata[pn];
                    for (var p = 0; p < pn; p++)
                        partitions[p] = new PartitionMetadata(r.ReadInt32(), r.ReadString() ?? "", r.ReadInt64(), r.ReadInt64(), ReadError(ref r), r.ReadString());
                    topics[i] = new TopicMetadata(name, id, error, message, replication, configs, partitions);
                }
                return new MetadataResponse(brokers, topics);
            }
            case "CS":
                return new ClusterStatusRequest();
            case "CSR":
            {
                var brokers = ReadBrokers(ref r);
                var n = r.ReadCount(12);
                var hosted = new HostedPartition[n];
                for (var i = 0; i < n; i++) hosted[i] = new HostedPartition(ReadName(ref r), r.ReadInt32(), r.ReadString() ?? "");
                return new ClusterStatusResponse(brokers, hosted);
            }
            case "E":
                return new ErrorResponse(ReadError(ref r), r.ReadString());
            case "X":
                return new MalformedRequest(r.ReadString() ?? "", r.ReadString() ?? "");
            default:
                throw new WireFormatException($"unknown message manifest '{manifest}'");
        }
    }

    private static string ReadName(ref WireReader r) => r.ReadString() ?? throw new WireFormatException("a required name is null");

    private static ErrorCode ReadError(ref WireReader r) => (ErrorCode)r.ReadInt16();

    private static void WriteTopicResults(WireWriter w, IReadOnlyList<TopicResult> results)
    {
        w.WriteCount(results.Count);
        foreach (var t in results)
        {
            w.WriteString(t.Name);
            w.WriteInt16((short)t.Error);
            w.WriteString(t.ErrorMessage);
        }
    }

    private static TopicResult[] ReadTopicResults(ref WireReader r)
    {
        var n = r.ReadCount(10);
        var results = new TopicResult[n];
        for (var i = 0; i < n; i++) results[i] = new TopicResult(ReadName(ref r), ReadError(ref r), r.ReadString());
        return results;
    }

    private static void WriteBrokers(WireWriter w, IReadOnlyList<BrokerInfo> brokers)
    {
        w.WriteCount(brokers.Count);
        foreach (var b in brokers)
        {
            w.WriteString(b.Address);
            w.WriteString(b.Host);
            w.WriteInt32(b.Port);
            w.WriteStringList(b.Roles);
            w.WriteString(b.Status);
        }
    }

    private static BrokerInfo[] ReadBrokers(ref WireReader r)
    {
        var n = r.ReadCount(20);
        var brokers = new BrokerInfo[n];
        for (var i = 0; i < n; i++)
            brokers[i] = new BrokerInfo(ReadName(ref r), r.ReadString() ?? "", r.ReadInt32(), r.ReadStringList() ?? [], r.ReadString() ?? "");
        return brokers;
    }

    /// <summary>
    /// Exact sizes for the messages that carry record batches, so they are written into one buffer of the
    /// right size and handed to the transport without a second copy.
    /// </summary>
    private static int InitialSize(object o)
    {
        switch (o)
        {
            case ProduceRequest p:
                var size = 2 + 4 + 4;
                foreach (var part in p.Partitions) size += StringSize(part.Topic) + 4 + 4 + part.Batch.Length;
                return size;
            case FetchResponse f:
                return StringSize(f.Topic) + 4 + 2 + StringSize(f.ErrorMessage) + 8 + 8 + 4 + f.Records.Length;
            case AppendBatch a:
                return StringSize(a.Topic) + 4 + 4 + a.Batch.Length;
            default:
                return 256;
        }
    }

    private static int StringSize(string? s) => 4 + (s is null ? 0 : System.Text.Encoding.UTF8.GetByteCount(s));
}
