using System.CommandLine;
using System.Diagnostics;
using Broker.Cli.Commands;
using Confluent.Kafka;

namespace Broker.KafkaPerf;

/// <summary>`kafka-perf consume`: `broker perf consume` with Confluent.Kafka consumers through the Kafka listener.</summary>
internal static class ConsumeCommand
{
    public static Command Create()
    {
        var topic = new Option<string>("--topic") { Description = "Topic to read from the beginning", DefaultValueFactory = _ => "perf" };
        var records = new Option<long>("--records") { Description = "Records to read in total", DefaultValueFactory = _ => 1_000_000 };
        var consumers = new Option<int>("--consumers") { Description = "Consumers in parallel; the topic's partitions are split between them (assign, no group)", DefaultValueFactory = _ => 1 };
        var fetchBytes = new Option<int>("--fetch-max-bytes") { Description = "max.partition.fetch.bytes: bytes per partition per fetch", DefaultValueFactory = _ => 1048576 };
        var timeoutMs = new Option<int>("--timeout-ms") { Description = "Give up when no record arrived for this long", DefaultValueFactory = _ => 10_000 };
        var bootstrap = KafkaOptions.Bootstrap();
        var set = KafkaOptions.Set();
        var output = KafkaOptions.Output();
        var command = new Command("consume", """
            Read records from the beginning of a topic as fast as possible and report records/s and MB/s, for the
            whole run and from the first record to the last (librdkafka's consumer starts about 0.5 s late).
            librdkafka's defaults are kept: with them a consumer of small records stops fetching for 1 s
            (fetch.queue.backoff.ms) whenever 100,000 records are queued (queued.min.messages), whatever the broker.

            Example: kafka-perf consume --records 2000000 --topic kafka-1
                     kafka-perf consume --records 2000000 --topic kafka-1 --set fetch.queue.backoff.ms=10 --set dotnet.consumer.consume.result.fields=none
            """)
        {
            topic, records, consumers, fetchBytes, timeoutMs, bootstrap, set, output,
        };
        command.SetAction(async parse =>
        {
            var name = parse.GetValue(topic)!;
            var total = parse.GetValue(records);
            var servers = parse.GetValue(bootstrap)!;
            var partitions = KafkaOptions.Partitions(servers, name, TimeSpan.FromSeconds(10), parse.GetValue(set)!);
            var count = Math.Clamp(parse.GetValue(consumers), 1, partitions.Count);
            var idle = TimeSpan.FromMilliseconds(parse.GetValue(timeoutMs));
            var config = new ConsumerConfig
            {
                BootstrapServers = servers, GroupId = "kafka-perf", EnableAutoCommit = false, EnableAutoOffsetStore = false,
                MaxPartitionFetchBytes = parse.GetValue(fetchBytes),
            };
            KafkaOptions.Apply(config, parse.GetValue(set)!);
            long done = 0, bytes = 0;
            var watch = Stopwatch.StartNew();
            var clock = new ConsumeClock(watch);
            using var progress = PerfReport.Progress(() => Interlocked.Read(ref done), watch, 0, "records consumed");
            var tasks = new Task[count];
            for (var c = 0; c < count; c++)
            {
                var mine = partitions.Where(p => p % count == c).Select(p => new TopicPartitionOffset(name, p, Offset.Beginning)).ToList();
                tasks[c] = Task.Factory.StartNew(() =>
                {
                    using var consumer = new ConsumerBuilder<Ignore, byte[]>(config).Build();
                    consumer.Assign(mine);
                    long localBytes = 0;
                    while (Interlocked.Read(ref done) < total)
                    {
                        var r = consumer.Consume(idle);
                        if (r is null) break;
                        if (r.IsPartitionEOF) continue;
                        if (localBytes == 0) clock.FirstRecord();
                        localBytes += r.Message.Value?.Length ?? 0;
                        if (Interlocked.Increment(ref done) >= total)
                        {
                            clock.LastRecord();
                            break;
                        }
                    }
                    Interlocked.Add(ref bytes, localBytes);
                    consumer.Close();
                }, TaskCreationOptions.LongRunning);
            }
            await Task.WhenAll(tasks);
            watch.Stop();
            progress.Dispose();
            var read = Math.Min(done, total);
            PerfReport.Consumed(parse.GetValue(output) == "json", count, read, watch.Elapsed.TotalSeconds, bytes, clock);
            if (read < total)
            {
                Console.Error.WriteLine($"error: only {read} of {total} records arrived before the {parse.GetValue(timeoutMs)} ms idle timeout; produce more records first or lower --records");
                return 1;
            }
            return 0;
        });
        return command;
    }
}
