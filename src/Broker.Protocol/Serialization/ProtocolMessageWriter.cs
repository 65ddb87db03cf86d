using System.Text;
using Broker.Protocol.Messages;

namespace Broker.Protocol.Serialization;

/// <summary>
/// Writes each protocol message's fields in declaration order (the layout <see cref="ProtocolMessageReader"/>
/// reads). A null where the contract says a collection is required is written as empty, so a careless
/// sender gets an empty value across rather than a serialization failure that Akka would only log.
/// </summary>
internal static class ProtocolMessageWriter
{
    public static byte[] Write(object o)
    {
        // Messages that carry record batches are sized exactly, so the frame is the final array and each
        // batch is copied once; the rest are small and use a pooled scratch buffer.
        switch (o)
        {
            case ProduceRequest { EncodedFrame: { } frame }:
                return frame;
            case ProduceRequest p:
            {
                using var w = WireWriter.WithExactSize(SizeOf(p));
                WriteProduceRequest(w, p);
                return w.ToArray();
            }
            case FetchResponse f:
            {
                using var w = WireWriter.WithExactSize(StringSize(f.Topic) + 4 + 2 + StringSize(f.ErrorMessage) + 8 + 8 + 4 + 4 + f.Records.Length);
                w.WriteString(f.Topic);
                w.WriteInt32(f.Partition);
                w.WriteInt16((short)f.Error);
                w.WriteString(f.ErrorMessage);
                w.WriteInt64(f.HighWatermark);
                w.WriteInt64(f.LogStartOffset);
                w.WriteInt32(f.LeaderEpoch);
                w.WriteBytes(f.Records.Span);
                return w.ToArray();
            }
            default:
            {
                using var w = new WireWriter();
                WriteSmall(w, o);
                return w.ToArray();
            }
        }
    }

    /// <summary>Writes the request; <paramref name="batchStarts"/>, if given, receives where each batch's bytes begin.</summary>
    private static void WriteProduceRequest(WireWriter w, ProduceRequest p, int[]? batchStarts = null)
    {
        var partitions = p.Partitions ?? [];
        w.WriteInt16(p.Acks);
        w.WriteInt32(p.TimeoutMs);
        w.WriteCount(partitions.Count);
        for (var i = 0; i < partitions.Count; i++)
        {
            var part = partitions[i];
            w.WriteString(part.Topic);
            w.WriteInt32(part.Partition);
            if (batchStarts is not null) batchStarts[i] = w.Length + 4;
            w.WriteBytes(part.Batch.Span);
        }
    }

    /// <summary>
    /// Writes a produce request in one exact-size array (see <see cref="ProduceRequest.Encode"/>); <paramref name="slices"/>
    /// are the same partitions with their batches pointing into that array.
    /// </summary>
    public static byte[] EncodeProduceRequest(short acks, int timeoutMs, IReadOnlyList<ProducePartitionData> partitions, out ProducePartitionData[] slices)
    {
        var request = new ProduceRequest(acks, timeoutMs, partitions);
        var starts = new int[partitions.Count];
        using var w = WireWriter.WithExactSize(SizeOf(request));
        WriteProduceRequest(w, request, starts);
        var frame = w.ToArray();
        slices = new ProducePartitionData[partitions.Count];
        for (var i = 0; i < partitions.Count; i++)
            slices[i] = partitions[i] with { Batch = frame.AsMemory(starts[i], partitions[i].Batch.Length) };
        return frame;
    }

    private static int SizeOf(ProduceRequest p)
    {
        var partitions = p.Partitions ?? [];
        var size = 2 + 4 + 4;
        for (var i = 0; i < partitions.Count; i++)
            size += StringSize(partitions[i].Topic) + 4 + 4 + partitions[i].Batch.Length;
        return size;
    }

    private static void WriteSmall(WireWriter w, object o)
    {
        switch (o)
        {
            case ProduceResponse p:
            {
                var results = p.Results ?? [];
                w.WriteCount(results.Count);
                for (var i = 0; i < results.Count; i++)
                {
                    var r = results[i];
                    w.WriteString(r.Topic);
                    w.WriteInt32(r.Partition);
                    w.WriteInt16((short)r.Error);
                    w.WriteString(r.ErrorMessage);
                    w.WriteInt64(r.BaseOffset);
                }
                break;
            }
            case FetchRequest f:
                w.WriteString(f.Topic);
                w.WriteInt32(f.Partition);
                w.WriteInt64(f.Offset);
                w.WriteInt32(f.MaxBytes);
                w.WriteInt32(f.MaxWaitMs);
                w.WriteInt32(f.CurrentLeaderEpoch);
                w.WriteString(f.ClientRack);
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
            {
                var topics = c.Topics ?? [];
                w.WriteCount(topics.Count);
                for (var i = 0; i < topics.Count; i++)
                {
                    var t = topics[i];
                    w.WriteString(t.Name);
                    w.WriteInt32(t.Partitions);
                    w.WriteInt16(t.ReplicationFactor);
                    w.WriteStringMap(t.Configs);
                }
                break;
            }
            case CreateTopicsResponse c:
                WriteTopicResults(w, c.Results);
                break;
            case DeleteTopicsRequest d:
                w.WriteStringList(d.Topics ?? []);
                break;
            case DeleteTopicsResponse d:
                WriteTopicResults(w, d.Results);
                break;
            case DeleteRecordsRequest d:
                w.WriteString(d.Topic);
                w.WriteInt32(d.Partition);
                w.WriteInt64(d.Offset);
                break;
            case DeleteRecordsResponse d:
                w.WriteString(d.Topic);
                w.WriteInt32(d.Partition);
                w.WriteInt16((short)d.Error);
                w.WriteString(d.ErrorMessage);
                w.WriteInt64(d.LowWatermark);
                break;
            case OffsetForLeaderEpochRequest ole:
                w.WriteString(ole.Topic);
                w.WriteInt32(ole.Partition);
                w.WriteInt32(ole.CurrentLeaderEpoch);
                w.WriteInt32(ole.LeaderEpoch);
                break;
            case OffsetForLeaderEpochResponse ole:
                w.WriteString(ole.Topic);
                w.WriteInt32(ole.Partition);
                w.WriteInt16((short)ole.Error);
                w.WriteString(ole.ErrorMessage);
                w.WriteInt32(ole.LeaderEpoch);
                w.WriteInt64(ole.EndOffset);
                break;
            case DescribeProducersRequest dp:
                w.WriteString(dp.Topic);
                w.WriteInt32(dp.Partition);
                break;
            case DescribeProducersResponse dp:
            {
                w.WriteString(dp.Topic);
                w.WriteInt32(dp.Partition);
                w.WriteInt16((short)dp.Error);
                w.WriteString(dp.ErrorMessage);
                var producers = dp.Producers ?? [];
                w.WriteCount(producers.Count);
                foreach (var p in producers)
                {
                    w.WriteInt64(p.ProducerId);
                    w.WriteInt16(p.Epoch);
                    w.WriteInt32(p.LastSequence);
                    w.WriteInt64(p.LastTimestamp);
                }
                break;
            }
            case AlterTopicConfigsRequest a:
            {
                var topics = a.Topics ?? [];
                w.WriteCount(topics.Count);
                foreach (var t in topics)
                {
                    w.WriteString(t.Topic);
                    var changes = t.Changes ?? [];
                    w.WriteCount(changes.Count);
                    foreach (var c in changes)
                    {
                        w.WriteString(c.Key);
                        w.WriteByte((byte)c.Operation);
                        w.WriteString(c.Value);
                    }
                }
                w.WriteBool(a.ValidateOnly);
                break;
            }
            case AlterTopicConfigsResponse a:
                WriteTopicResults(w, a.Results);
                break;
            case CreatePartitionsRequest c:
            {
                var topics = c.Topics ?? [];
                w.WriteCount(topics.Count);
                foreach (var t in topics)
                {
                    w.WriteString(t.Topic);
                    w.WriteInt32(t.Count);
                }
                w.WriteBool(c.ValidateOnly);
                break;
            }
            case CreatePartitionsResponse c:
                WriteTopicResults(w, c.Results);
                break;
            case MetadataRequest m:
                w.WriteStringList(m.Topics); // null means "every topic" and stays null
                break;
            case MetadataResponse m:
                WriteBrokers(w, m.Brokers);
                WriteTopicMetadata(w, m.Topics);
                break;
            case ReassignPartitionsRequest ra:
            {
                var moves = ra.Partitions ?? [];
                w.WriteCount(moves.Count);
                for (var i = 0; i < moves.Count; i++)
                {
                    w.WriteString(moves[i].Topic);
                    w.WriteInt32(moves[i].Partition);
                    w.WriteInt32List(moves[i].Replicas ?? []);
                }
                break;
            }
            case ReassignPartitionsResponse ra:
            {
                var results = ra.Results ?? [];
                w.WriteCount(results.Count);
                for (var i = 0; i < results.Count; i++)
                {
                    w.WriteString(results[i].Topic);
                    w.WriteInt32(results[i].Partition);
                    w.WriteInt16((short)results[i].Error);
                    w.WriteString(results[i].ErrorMessage);
                }
                break;
            }
            case InitProducerIdRequest:
                break;
            case InitProducerIdResponse ip:
                w.WriteInt16((short)ip.Error);
                w.WriteString(ip.ErrorMessage);
                w.WriteInt64(ip.ProducerId);
                w.WriteInt16(ip.ProducerEpoch);
                break;
            case ClusterStatusRequest:
                break;
            case ClusterStatusResponse c:
            {
                WriteBrokers(w, c.Brokers);
                var hosted = c.Partitions ?? [];
                w.WriteCount(hosted.Count);
                for (var i = 0; i < hosted.Count; i++)
                {
                    w.WriteString(hosted[i].Topic);
                    w.WriteInt32(hosted[i].Partition);
                    w.WriteString(hosted[i].Address);
                }
                break;
            }
            case ErrorResponse e:
                w.WriteInt16((short)e.Error);
                w.WriteString(e.ErrorMessage);
                break;
            case MalformedRequest x:
                w.WriteString(x.Manifest);
                w.WriteString(x.Reason);
                break;
            case LoginRequest login:
                w.WriteString(login.Username);
                w.WriteString(login.Password);
                break;
            case LoginResponse login:
                w.WriteInt16((short)login.Error);
                w.WriteString(login.ErrorMessage);
                w.WriteString(login.Session);
                break;
            default:
                if (!GroupMessageWriter.TryWrite(w, o)) throw new ArgumentException($"BrokerSerializer cannot serialize {o.GetType()}");
                break;
        }
    }

    private static void WriteTopicResults(WireWriter w, IReadOnlyList<TopicResult>? results)
    {
        results ??= [];
        w.WriteCount(results.Count);
        for (var i = 0; i < results.Count; i++)
        {
            w.WriteString(results[i].Name);
            w.WriteInt16((short)results[i].Error);
            w.WriteString(results[i].ErrorMessage);
        }
    }

    private static void WriteBrokers(WireWriter w, IReadOnlyList<BrokerInfo>? brokers)
    {
        brokers ??= [];
        w.WriteCount(brokers.Count);
        for (var i = 0; i < brokers.Count; i++)
        {
            var b = brokers[i];
            w.WriteString(b.Address);
            w.WriteString(b.Host);
            w.WriteInt32(b.Port);
            w.WriteStringList(b.Roles ?? []);
            w.WriteString(b.Status);
            w.WriteInt32(b.NodeId);
        }
    }

    private static void WriteTopicMetadata(WireWriter w, IReadOnlyList<TopicMetadata>? topics)
    {
        topics ??= [];
        w.WriteCount(topics.Count);
        for (var i = 0; i < topics.Count; i++)
        {
            var t = topics[i];
            w.WriteString(t.Name);
            w.WriteString(t.TopicId);
            w.WriteInt16((short)t.Error);
            w.WriteString(t.ErrorMessage);
            w.WriteInt16(t.ReplicationFactor);
            w.WriteStringMap(t.Configs);
            var partitions = t.Partitions ?? [];
            w.WriteCount(partitions.Count);
            for (var p = 0; p < partitions.Count; p++)
            {
                var pm = partitions[p];
                w.WriteInt32(pm.Partition);
                w.WriteString(pm.Leader);
                w.WriteInt64(pm.LogStartOffset);
                w.WriteInt64(pm.LogEndOffset);
                w.WriteInt16((short)pm.Error);
                w.WriteString(pm.ErrorMessage);
                w.WriteInt32(pm.LeaderId);
                w.WriteInt32(pm.LeaderEpoch);
                w.WriteInt64(pm.HighWatermark);
                w.WriteInt32List(pm.Replicas);
                w.WriteInt32List(pm.Isr);
                w.WriteInt32List(pm.OfflineReplicas);
                w.WriteInt32List(pm.AddingReplicas);
                w.WriteInt32List(pm.RemovingReplicas);
            }
        }
    }

    private static int StringSize(string? s) => 4 + (s is null ? 0 : Encoding.UTF8.GetByteCount(s));
}
