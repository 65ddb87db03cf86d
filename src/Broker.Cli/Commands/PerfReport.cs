using System.Diagnostics;
using System.Text.Json;

namespace Broker.Cli.Commands;

/// <summary>
/// What a load test prints: progress lines on stderr, then one result line (or JSON). Shared as source with the
/// Kafka-path load tool (tests/Broker.KafkaPerf links this file), so the two paths' figures read the same way.
/// </summary>
public static class PerfReport
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>
    /// Latency is measured for every n-th record, as kafka-producer-perf-test samples it (at most ~500,000 samples):
    /// the other records share one callback, so the tool allocates nothing for them.
    /// </summary>
    public static long SampleEvery(long total) => Math.Max(1, total / Math.Min(Math.Max(total, 1), 500_000));

    /// <summary>Prints a progress line to stderr every 2 s until disposed.</summary>
    public static Timer Progress(Func<long> done, Stopwatch watch, int recordSize, string what)
    {
        long last = 0;
        var lastTime = TimeSpan.Zero;
        return new Timer(_ =>
        {
            var now = watch.Elapsed;
            var current = done();
            var rate = (current - last) / Math.Max(0.001, (now - lastTime).TotalSeconds);
            var mb = recordSize > 0 ? $" ({rate * recordSize / 1048576:0.0} MB/sec)" : "";
            Console.Error.WriteLine($"{current} {what}, {rate:0.0} records/sec{mb}");
            last = current;
            lastTime = now;
        }, null, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2));
    }

    public sealed record Summary(long Records, double Seconds, double RecordsPerSec, double MbPerSec, double AvgMs, double P50Ms, double P95Ms, double P99Ms, double MaxMs);

    /// <summary>Throughput over all <paramref name="total"/> records; latency statistics over the sampled ones (Stopwatch ticks).</summary>
    public static Summary Summarize(long[] latencies, long total, int recordSize, TimeSpan elapsed)
    {
        Array.Sort(latencies);
        var n = latencies.Length;
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        double At(double q) => n == 0 ? 0 : Ms(latencies[Math.Min(n - 1, (int)(q * n))]);
        double sum = 0;
        foreach (var l in latencies) sum += l;
        var seconds = elapsed.TotalSeconds;
        return new Summary(total, seconds, total / seconds, total * (double)recordSize / 1048576 / seconds,
            n == 0 ? 0 : Ms((long)(sum / n)), At(0.50), At(0.95), At(0.99), n == 0 ? 0 : Ms(latencies[^1]));
    }

    public static void WriteJson(object value) => Console.WriteLine(JsonSerializer.Serialize(value, Json));

    public static void Produced(bool json, int producers, Summary s, long failed, long latencySampleEvery)
    {
        if (json)
        {
            WriteJson(new { test = "produce", producers, s.Records, s.Seconds, s.RecordsPerSec, s.MbPerSec, s.AvgMs, s.P50Ms, s.P95Ms, s.P99Ms, s.MaxMs, latencySampleEvery, failed });
            return;
        }
        Console.WriteLine($"{s.Records} records sent by {producers} producer(s), {s.RecordsPerSec:0.0} records/sec ({s.MbPerSec:0.00} MB/sec), " +
                          $"{s.AvgMs:0.00} ms avg latency, {s.MaxMs:0.00} ms max latency, {s.P50Ms:0.00} ms 50th, {s.P95Ms:0.00} ms 95th, {s.P99Ms:0.00} ms 99th" +
                          (latencySampleEvery > 1 ? $" (latency of every {latencySampleEvery}th record)" : "") +
                          (failed > 0 ? $", {failed} failed" : ""));
    }

    /// <summary>
    /// The whole run's rate, and with <paramref name="clock"/> also the rate from the first record to the last, as
    /// kafka-consumer-perf-test reports fetch.nMsg.sec apart from the consumer's start (connecting, metadata, offsets).
    /// </summary>
    public static void Consumed(bool json, int consumers, long records, double seconds, long bytes, ConsumeClock? clock = null)
    {
        var fetching = clock is { FirstRecordSeconds: > 0 } c && c.LastRecordSeconds > c.FirstRecordSeconds ? c.LastRecordSeconds - c.FirstRecordSeconds : 0;
        if (json)
        {
            WriteJson(new
            {
                test = "consume", consumers, records, seconds, recordsPerSec = records / seconds, mbPerSec = bytes / 1048576.0 / seconds,
                firstRecordMs = clock?.FirstRecordSeconds * 1000, fetchRecordsPerSec = fetching > 0 ? records / fetching : (double?)null,
            });
            return;
        }
        var line = $"{records} records consumed by {consumers} consumer(s) in {seconds:0.00} s: {records / seconds:0.0} records/sec ({bytes / 1048576.0 / seconds:0.00} MB/sec)";
        if (fetching > 0) line += $"; first record after {clock!.FirstRecordSeconds * 1000:0} ms, {records / fetching:0.0} records/sec from it to the last";
        Console.WriteLine(line);
    }
}

/// <summary>
/// When a consume run's first record arrived (any consumer's) and its last wanted one, on the run's stopwatch, so a
/// report can tell the consumer's start from its reading. Thread-safe; one read of a field per record at most.
/// </summary>
public sealed class ConsumeClock(Stopwatch watch)
{
    private long _first;
    private long _last;

    public double FirstRecordSeconds => Interlocked.Read(ref _first) / (double)Stopwatch.Frequency;

    public double LastRecordSeconds => Interlocked.Read(ref _last) / (double)Stopwatch.Frequency;

    /// <summary>A consumer got its first record; only the earliest call counts.</summary>
    public void FirstRecord()
    {
        if (Interlocked.Read(ref _first) == 0) Interlocked.CompareExchange(ref _first, Math.Max(1, watch.ElapsedTicks), 0);
    }

    /// <summary>The last record wanted arrived; only the first call counts.</summary>
    public void LastRecord() => Interlocked.CompareExchange(ref _last, watch.ElapsedTicks, 0);
}

/// <summary>
/// One perf consumer's polling: short polls (<see cref="Slice"/>), so that with several consumers the ones whose
/// partitions ran dry notice within one that the others read the total, and --timeout-ms counted over the empty ones.
/// </summary>
public sealed class ConsumePolls(TimeSpan idleLimit)
{
    /// <summary>How long one Consume call waits.</summary>
    public static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(100);

    private TimeSpan _idle;

    /// <summary>A poll returned nothing; true once nothing has arrived for the idle limit.</summary>
    public bool EmptyUntilGivenUp()
    {
        _idle += Slice;
        return _idle >= idleLimit;
    }

    /// <summary>A poll returned a record.</summary>
    public void Arrived() => _idle = TimeSpan.Zero;
}
