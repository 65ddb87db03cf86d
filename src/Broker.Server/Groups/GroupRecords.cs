using System.Text;
using Broker.Protocol.Records;
using Broker.Protocol.Serialization;
using Broker.Server.Serialization;

namespace Broker.Server.Groups;

/// <summary>
/// How a group's events are stored in its <see cref="OffsetsTopic"/> partition: one record per event, key = the
/// group id (UTF-8), value = the event's manifest then its bytes in the layout the group journal used
/// (<see cref="GroupEventCodec"/>), so one outcome is one batch and every replica replays the same events.
/// </summary>
internal static class GroupRecords
{
    /// <summary>One batch holding <paramref name="events"/> of <paramref name="groupId"/>, in order.</summary>
    public static byte[] Encode(string groupId, IReadOnlyList<IServerMessage> events, long timestampMs)
    {
        var key = Encoding.UTF8.GetBytes(groupId);
        var builder = new RecordBatchBuilder(1024);
        foreach (var e in events)
        {
            using var w = new WireWriter();
            w.WriteString(GroupEventCodec.Manifest(e) ?? throw new ArgumentException($"{e.GetType().Name} is not a group event"));
            GroupEventCodec.TryWrite(w, e);
            builder.Append(timestampMs, key, w.ToArray());
        }
        return builder.Build();
    }

    /// <summary>
    /// Every group event in <paramref name="records"/> (a fetch answer: whole batches) at or after <paramref name="from"/>,
    /// as (offset, group id, event); records this version cannot read are skipped. Returns the offset after the last record read.
    /// </summary>
    public static long Decode(ReadOnlyMemory<byte> records, long from, List<(string GroupId, IServerMessage Event)> into)
    {
        var next = from;
        var position = 0;
        while (RecordBatch.TryReadNext(records, ref position, out var batch, out _))
        {
            var reader = new RecordBatchReader(batch);
            while (reader.TryReadNext(out var record))
            {
                if (record.Offset < from) continue;
                next = record.Offset + 1;
                if (record.Key is not { } key || record.Value is not { } value) continue;
                var r = new WireReader(value);
                var manifest = r.ReadString();
                if (manifest is null || GroupEventCodec.TryRead(ref r, manifest) is not IServerMessage e) continue;
                into.Add((Encoding.UTF8.GetString(key.Span), e));
            }
            next = Math.Max(next, reader.Header.LastOffset + 1);
        }
        return next;
    }
}
