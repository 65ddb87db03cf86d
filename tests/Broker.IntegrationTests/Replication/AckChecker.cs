using System.Collections.Concurrent;
using Broker.Client;
using Broker.Protocol.Messages;

namespace Broker.IntegrationTests.Replication;

/// <summary>
/// Records every acknowledgement a producer gets and, at the end, reads every partition back, in the style
/// of Jepsen's Kafka checker: an acknowledged record missing or different at its offset is a lost write; one
/// offset acknowledged for two different records is an inconsistent offset. Values are unique per send, so
/// any mismatch is a real violation, not a retry artefact.
/// </summary>
public sealed class AckChecker(int partitions)
{
    private readonly ConcurrentDictionary<(int Partition, long Offset), string> _acked = new();
    private readonly ConcurrentQueue<string> _conflicts = new();
    private readonly ConcurrentQueue<(long SentAt, long AckedAt)>[] _timings =
        Enumerable.Range(0, partitions).Select(_ => new ConcurrentQueue<(long, long)>()).ToArray();
    private long _failures;

    public int Partitions { get; } = partitions;
    public int AckCount => _acked.Count;
    public long FailureCount => Interlocked.Read(ref _failures);
    public IReadOnlyCollection<string> Conflicts => _conflicts;

    /// <summary>
    /// When the partition first acknowledged a record that was sent after <paramref name="since"/>
    /// (Environment.TickCount64), or null. Records sent before a kill may still be acknowledged just after it
    /// by the old leader; a record sent after it can only be acknowledged by a live leader.
    /// </summary>
    public long? FirstAckOfSendAfter(int partition, long since)
    {
        long? first = null;
        foreach (var (sentAt, ackedAt) in _timings[partition])
            if (sentAt > since && (first is null || ackedAt < first)) first = ackedAt;
        return first;
    }

    /// <summary>Records an acknowledged record; <paramref name="sentAt"/> is Environment.TickCount64 when its send began.</summary>
    public void Acknowledged(int partition, long offset, string value, long sentAt)
    {
        var stored = _acked.GetOrAdd((partition, offset), value);
        if (stored != value) _conflicts.Enqueue($"{partition}@{offset} acknowledged for both '{stored}' and '{value}'");
        _timings[partition].Enqueue((sentAt, Environment.TickCount64));
    }

    public void Failed() => Interlocked.Increment(ref _failures);

    /// <summary>Every acknowledged (partition, offset).</summary>
    public IReadOnlyCollection<(int Partition, long Offset)> AcknowledgedOffsets => (IReadOnlyCollection<(int, long)>)_acked.Keys;

    /// <summary>Per partition, the offset after the highest acknowledged record (0 if none).</summary>
    public long[] AcknowledgedEnds()
    {
        var ends = new long[Partitions];
        foreach (var (partition, offset) in _acked.Keys) ends[partition] = Math.Max(ends[partition], offset + 1);
        return ends;
    }

    /// <summary>Reads every partition from the start to its current end and compares with what was acknowledged.</summary>
    public async Task<CheckResult> ReadBackAsync(string bootstrap, string topic, TimeSpan timeout, string? clientHost = null)
    {
        var stored = await LogReader.ReadAllAsync(bootstrap, topic, Partitions, timeout, clientHost);
        var unread = 0L;
        await using (var admin = new AdminClient(new ClientConfig { BootstrapServers = bootstrap, ClientHost = clientHost }))
            for (var p = 0; p < Partitions; p++) unread += (await admin.ListOffsetsAsync(topic, p, OffsetSpec.Latest)).Offset;
        unread -= stored.Count;
        var lost = new List<string>();
        foreach (var ((partition, offset), value) in _acked)
        {
            if (!stored.TryGetValue((partition, offset), out var actual)) lost.Add($"{partition}@{offset} '{value}' is missing");
            else if (actual != value) lost.Add($"{partition}@{offset} holds '{actual}', acknowledged '{value}'");
        }
        // Every send has its own value, so a value stored at two offsets was stored twice (a retry the log did not recognise).
        var firstAt = new Dictionary<string, (int Partition, long Offset)>(stored.Count);
        var duplicates = new List<string>();
        foreach (var ((partition, offset), value) in stored)
        {
            if (!firstAt.TryAdd(value, (partition, offset)))
                duplicates.Add($"'{value}' is stored at {firstAt[value].Partition}@{firstAt[value].Offset} and {partition}@{offset}");
        }
        return new CheckResult(_acked.Count, stored.Count, unread, lost, _conflicts.ToList()) { Duplicates = duplicates };
    }
}

public sealed record CheckResult(int Acknowledged, int ReadBack, long Unread, IReadOnlyList<string> Lost, IReadOnlyList<string> Conflicts)
{
    /// <summary>Values stored more than once. Only an idempotent producer promises none: a plain producer's retry may store a record twice.</summary>
    public IReadOnlyList<string> Duplicates { get; init; } = [];

    public override string ToString() =>
        $"{Acknowledged} acknowledged, {ReadBack} read back ({Unread} unread), {Lost.Count} lost, {Conflicts.Count} inconsistent offsets, {Duplicates.Count} stored twice"
        + (Lost.Count > 0 ? "; first lost: " + string.Join("; ", Lost.Take(5)) : "")
        + (Conflicts.Count > 0 ? "; first conflicts: " + string.Join("; ", Conflicts.Take(5)) : "")
        + (Duplicates.Count > 0 ? "; first duplicates: " + string.Join("; ", Duplicates.Take(5)) : "");
}
