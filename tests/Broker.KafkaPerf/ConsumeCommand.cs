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
        var librdkafkaDefaults = new Option<bool>("--librdkafka-defaults") { Description = "Keep librdkafka's fetch.queue.backoff.ms and Confluent.Kafka's consume.result.fields defaults (see above)" };
        var bootstrap = KafkaOptions.Bootstrap();
        var set = KafkaOptions.Set();
        var output = KafkaOptions.Output();
        var command = new Command("consume", """
            Read records from the beginning of a topic as fast as possible and report records/s and MB/s, for the
            whole run and from the first record to the last.

            Two librdkafka settings are changed from librdkafka's defaults, as a throughput test needs (take them
            for any consumer that reads many small records fast; --librdkafka-defaults keeps librdkafka's own):
              fetch.queue.backoff.ms=10 (default 1000): librdkafka stops fetching for that long whenever
                queued.min.messages (100,000) records wait in the consumer's queue. With 100-byte records the
                application drains them in about 0.1 s and then waits for the rest of the second, against any
                broker (librdkafka issues 1377 and 2879): about 150,000 records/s.
              dotnet.consumer.consume.result.fields=none: Confluent.Kafka then does not marshal each record's topic
                name, timestamp and headers, which this test does not read.
            The consumer's handle also reads the topic's metadata before its partitions are assigned: assigned
            before it knows their leaders, librdkafka retries the offset lookup on a fixed 500 ms timer.

            Example: kafka-perf consume --records 2000000 --topic kafka-1
                     kafka-perf consume --records 2000000 --topic kafka-1 --librdkafka-defaults
            """)
        {
            topic, records, consumers, fetchBytes, timeoutMs, librdkafkaDefaults, bootstrap, set, output,
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
            if (!parse.GetValue(librdkafkaDefaults))
            {
                config.FetchQueueBackoffMs = 10;
                config.ConsumeResultFields = "none";
            }
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
                    // The consumer's own handle learns the leaders first: assigned before it knows them, librdkafka
                    // retries each partition's offset lookup on a fixed 500 ms timer, a quarter of a 2M-record run.
                    using (var metadata = new DependentAdminClientBuilder(consumer.Handle).Build()) metadata.GetMetadata(name, TimeSpan.FromSeconds(10));
                    consumer.Assign(mine);
                    long localBytes = 0;
                    var polls = new ConsumePolls(idle);
                    while (Interlocked.Read(ref done) < total)
                    {
                        var r = consumer.Consume(ConsumePolls.Slice);
                        if (r is null)
                        {
                            if (polls.EmptyUntilGivenUp()) break;
                            continue;
                        }
                        polls.Arrived();
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
