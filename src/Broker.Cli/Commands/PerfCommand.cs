using System.CommandLine;
using System.Diagnostics;
using Broker.Client;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Cli.Commands;

/// <summary>`broker perf produce|consume`: load tests modelled on kafka-producer-perf-test and kafka-consumer-perf-test.</summary>
public static class PerfCommand
{
    public static Command Create() => new("perf", "Measure throughput and latency against a running node")
    {
        ProduceCommandDefinition(), ConsumeCommandDefinition(),
    };

    private static Command ProduceCommandDefinition()
    {
        var topic = new Option<string>("--topic") { Description = "Topic to write (created if missing)", DefaultValueFactory = _ => "perf" };
        var records = new Option<long>("--records") { Description = "Records to send in total", DefaultValueFactory = _ => 1_000_000 };
        var size = new Option<int>("--record-size") { Description = "Value bytes per record", DefaultValueFactory = _ => 100 };
        var producers = new Option<int>("--producers") { Description = "Producers running in parallel, each sending records/producers", DefaultValueFactory = _ => 1 };
        var partitions = new Option<int>("--partitions") { Description = "Partitions when the topic is created", DefaultValueFactory = _ => 4 };
        var acks = AcksOption.Create();
        var compression = CompressionOption.Create();
        var batchSize = new Option<int>("--batch-size") { Description = "batch.size in bytes", DefaultValueFactory = _ => 65536 };
        var linger = new Option<int>("--linger-ms") { Description = "linger.ms", DefaultValueFactory = _ => 5 };
        var inFlight = new Option<int>("--max-in-flight") { Description = "Produce requests outstanding per producer", DefaultValueFactory = _ => 5 };
        var buffer = new Option<long>("--buffer-memory") { Description = "buffer.memory in bytes, shared by the producers of this run", DefaultValueFactory = _ => 32L * 1024 * 1024 };
        var throughput = new Option<double>("--throughput") { Description = "Records/s to send in total (-1 = as fast as possible); measures latency below saturation", DefaultValueFactory = _ => -1 };
        var replication = new Option<short>("--replication-factor") { Description = "Replicas when the topic is created (-1 = min(3, live nodes))", DefaultValueFactory = _ => -1 };
        var bootstrap = CommonOptions.Bootstrap();
        var output = CommonOptions.Output();
        var command = new Command("produce", """
            Send keyless records as fast as the producers can and report records/s, MB/s and the
            latency from send to acknowledgement (avg, p50, p95, p99, max). As in kafka-producer-perf-test,
            latency is sampled: every record when there are up to 500,000, else evenly spread samples.

            With --throughput the producers are paced to that rate, as kafka-producer-perf-test
            --throughput does, so latency is measured below saturation rather than as queueing.

            Example: broker perf produce --records 1000000 --record-size 100 --producers 4 --acks 1
                     broker perf produce --records 1500000 --throughput 50000 --acks all
            """)
        {
            topic, records, size, producers, partitions, replication, acks, compression, batchSize, linger, inFlight, buffer, throughput, bootstrap, output,
        };
        command.SetAction(parse => CliRunner.Run(async () =>
        {
            var total = parse.GetValue(records);
            var valueSize = parse.GetValue(size);
            var count = Math.Max(1, parse.GetValue(producers));
            var name = parse.GetValue(topic)!;
            var bufferMemory = parse.GetValue(buffer);
            var client = CommonOptions.Client(parse.GetValue(bootstrap)!);
            await EnsureTopic(client, name, parse.GetValue(partitions), parse.GetValue(replication));
            var rate = parse.GetValue(throughput);

            // Latency of every sampleEvery-th record: the others share one callback, so the tool's own garbage does
            // not slow down the client it measures.
            var sampleEvery = PerfReport.SampleEvery(total);
            var latencies = new long[(total + sampleEvery - 1) / sampleEvery];
            long done = 0, failed = 0;
            BrokerException? firstError = null;
            Action<DeliveryResult?, BrokerException?> counted = (_, error) =>
            {
                if (error is not null)
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, error, null);
                }
                Interlocked.Increment(ref done);
            };
            var watch = Stopwatch.StartNew();
            using var progress = PerfReport.Progress(() => Interlocked.Read(ref done), watch, valueSize, "records acknowledged");
            var tasks = new Task[count];
            for (var p = 0; p < count; p++)
            {
                var from = total * p / count;
                var to = total * (p + 1) / count;
                // A dedicated thread per producer: Produce blocks while buffer.memory is full, and a blocked
                // thread-pool thread would starve the pool that completes deliveries.
                tasks[p] = Task.Factory.StartNew(() =>
                {
                    using var producer = new Producer(CommonOptions.Secure(new ProducerConfig
                    {
                        BootstrapServers = client.BootstrapServers, Acks = AcksOption.Parse(parse.GetValue(acks)),
                        BatchSize = parse.GetValue(batchSize), LingerMs = parse.GetValue(linger), MaxInFlight = parse.GetValue(inFlight), BufferMemory = bufferMemory / count,
                        CompressionType = CompressionOption.Parse(parse.GetValue(compression)),
                    }));
                    var message = new Message { Value = new byte[valueSize] };
                    Random.Shared.NextBytes(message.Value);
                    var throttler = new ThroughputThrottler(rate / count);
                    for (var i = from; i < to; i++)
                    {
                        throttler.AfterSend(i - from);
                        // The producer copies the record into its batch at once, so one Message is reused.
                        if (i % sampleEvery != 0)
                        {
                            producer.Produce(name, message, counted);
                            continue;
                        }
                        var sample = i / sampleEvery;
                        var sent = Stopwatch.GetTimestamp();
                        producer.Produce(name, message, (result, error) =>
                        {
                            latencies[sample] = Stopwatch.GetTimestamp() - sent;
                            counted(result, error);
                        });
                    }
                    producer.Flush(TimeSpan.FromMinutes(5));
                }, TaskCreationOptions.LongRunning);
            }
            await Task.WhenAll(tasks);
            watch.Stop();
            progress.Dispose();
            var summary = PerfReport.Summarize(latencies, total, valueSize, watch.Elapsed);
            PerfReport.Produced(parse.GetValue(output) == "json", count, summary, failed, sampleEvery);
            if (firstError is not null) throw firstError;
            return failed == 0 ? CliRunner.Ok : CliRunner.Failed;
        }));
        return command;
    }

    private static Command ConsumeCommandDefinition()
    {
        var topic = new Option<string>("--topic") { Description = "Topic to read from the beginning", DefaultValueFactory = _ => "perf" };
        var records = new Option<long>("--records") { Description = "Records to read in total", DefaultValueFactory = _ => 1_000_000 };
        var consumers = new Option<int>("--consumers") { Description = "Consumers in parallel; the topic's partitions are split between them", DefaultValueFactory = _ => 1 };
        var fetchBytes = new Option<int>("--fetch-max-bytes") { Description = "fetch.max.bytes per partition fetch", DefaultValueFactory = _ => 1048576 };
        var timeoutMs = new Option<int>("--timeout-ms") { Description = "Give up when no record arrived for this long", DefaultValueFactory = _ => 10_000 };
        var bootstrap = CommonOptions.Bootstrap();
        var output = CommonOptions.Output();
        var command = new Command("consume", """
            Read records from the beginning of a topic as fast as possible and report records/s and MB/s.

            Example: broker perf consume --records 1000000 --consumers 1
            """)
        {
            topic, records, consumers, fetchBytes, timeoutMs, bootstrap, output,
        };
        command.SetAction(parse => CliRunner.Run(async () =>
        {
            var name = parse.GetValue(topic)!;
            var total = parse.GetValue(records);
            var client = CommonOptions.Client(parse.GetValue(bootstrap)!);
            await using var admin = new AdminClient(client);
            var metadata = (await admin.GetMetadataAsync([name])).Topics[0];
            if (metadata.Error != ErrorCode.None) throw CliRunner.ToException(metadata.Error, metadata.ErrorMessage);
            var count = Math.Clamp(parse.GetValue(consumers), 1, metadata.Partitions.Count);
            var idle = TimeSpan.FromMilliseconds(parse.GetValue(timeoutMs));
            var maxBytes = parse.GetValue(fetchBytes);
            long done = 0, bytes = 0;
            var watch = Stopwatch.StartNew();
            var clock = new ConsumeClock(watch);
            using var progress = PerfReport.Progress(() => Interlocked.Read(ref done), watch, 0, "records consumed");
            var tasks = new Task[count];
            for (var c = 0; c < count; c++)
            {
                var mine = metadata.Partitions.Where(p => p.Partition % count == c).Select(p => new TopicPartitionOffset(name, p.Partition, Offset.Beginning)).ToList();
                tasks[c] = Task.Factory.StartNew(() =>
                {
                    using var consumer = new Consumer(CommonOptions.Secure(new ConsumerConfig { BootstrapServers = client.BootstrapServers, FetchMaxBytes = maxBytes }));
                    consumer.Assign(mine);
                    long localBytes = 0;
                    var polls = new ConsumePolls(idle);
                    // Nothing per record here but the Consume call and one shared counter: option look-ups stay out of the loop.
                    while (Interlocked.Read(ref done) < total)
                    {
                        var r = consumer.Consume(ConsumePolls.Slice);
                        if (r is null)
                        {
                            if (polls.EmptyUntilGivenUp()) break;
                            continue;
                        }
                        polls.Arrived();
                        if (localBytes == 0) clock.FirstRecord();
                        localBytes += (r.Value?.Length ?? 0) + (r.Key?.Length ?? 0);
                        if (Interlocked.Increment(ref done) >= total)
                        {
                            clock.LastRecord();
                            break;
                        }
                    }
                    Interlocked.Add(ref bytes, localBytes);
                }, TaskCreationOptions.LongRunning);
            }
            await Task.WhenAll(tasks);
            watch.Stop();
            progress.Dispose();
            var read = Math.Min(done, total);
            var seconds = watch.Elapsed.TotalSeconds;
            PerfReport.Consumed(parse.GetValue(output) == "json", count, read, seconds, bytes, clock);
            if (read < total)
            {
                Console.Error.WriteLine($"error: only {read} of {total} records arrived before the {parse.GetValue(timeoutMs)} ms idle timeout; produce more records first or lower --records");
                return CliRunner.Failed;
            }
            return CliRunner.Ok;
        }));
        return command;
    }

    private static async Task EnsureTopic(ClientConfig client, string name, int partitions, short replicationFactor)
    {
        await using var admin = new AdminClient(client);
        var result = (await admin.CreateTopicsAsync([new TopicSpec(name, partitions, replicationFactor, new Dictionary<string, string>())]))[0];
        if (result.Error is not (ErrorCode.None or ErrorCode.TopicAlreadyExists)) throw CliRunner.ToException(result.Error, result.ErrorMessage);
    }
}
