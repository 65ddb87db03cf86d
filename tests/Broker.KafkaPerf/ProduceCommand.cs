using System.CommandLine;
using System.Diagnostics;
using Broker.Cli.Commands;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Broker.KafkaPerf;

/// <summary>`kafka-perf produce`: `broker perf produce` with Confluent.Kafka producers through the Kafka listener.</summary>
internal static class ProduceCommand
{
    public static Command Create()
    {
        var topic = new Option<string>("--topic") { Description = "Topic to write (created if missing, through CreateTopics)", DefaultValueFactory = _ => "perf" };
        var records = new Option<long>("--records") { Description = "Records to send in total", DefaultValueFactory = _ => 1_000_000 };
        var size = new Option<int>("--record-size") { Description = "Value bytes per record (keyless records)", DefaultValueFactory = _ => 100 };
        var producers = new Option<int>("--producers") { Description = "Producers running in parallel, each sending records/producers", DefaultValueFactory = _ => 1 };
        var partitions = new Option<int>("--partitions") { Description = "Partitions when the topic is created", DefaultValueFactory = _ => 4 };
        var replication = new Option<short>("--replication-factor") { Description = "Replicas when the topic is created (-1 = the node's default)", DefaultValueFactory = _ => -1 };
        var acks = KafkaOptions.Acks();
        var batchSize = new Option<int>("--batch-size") { Description = "batch.size in bytes (librdkafka's per-partition batch limit)", DefaultValueFactory = _ => 65536 };
        var batchMessages = new Option<int>("--batch-num-messages") { Description = "batch.num.messages: records per batch at most (high, so --batch-size decides as in Java)", DefaultValueFactory = _ => 1_000_000 };
        var linger = new Option<int>("--linger-ms") { Description = "linger.ms", DefaultValueFactory = _ => 5 };
        // Not broker perf's 5: librdkafka puts one partition's batch in a ProduceRequest where the native producer (and
        // Kafka's Java one) fill a request with a batch per partition, so 5 requests would mean 5 batches in flight
        // (measured: about half the native rate at acks=1, each request waiting for its fsync). librdkafka's own default.
        var inFlight = new Option<int>("--max-in-flight") { Description = "max.in.flight.requests.per.connection (librdkafka's default; it sends one partition's batch per request)", DefaultValueFactory = _ => 1_000_000 };
        var buffer = new Option<long>("--buffer-memory") { Description = "Bytes buffered per run, split between producers (queue.buffering.max.kbytes; the message-count cap is lifted)", DefaultValueFactory = _ => 32L * 1024 * 1024 };
        var compression = new Option<string>("--compression") { Description = "compression.type: none, gzip, snappy, lz4 or zstd (the node stores batches as sent)", DefaultValueFactory = _ => "none" };
        var throughput = new Option<double>("--throughput") { Description = "Records/s to send in total (-1 = as fast as possible); measures latency below saturation", DefaultValueFactory = _ => -1 };
        var bootstrap = KafkaOptions.Bootstrap();
        var set = KafkaOptions.Set();
        var output = KafkaOptions.Output();
        var command = new Command("produce", """
            Send keyless records as fast as the producers can and report records/s, MB/s and the latency
            from Produce to the delivery report (avg, p50, p95, p99, max), sampled as `broker perf produce`
            samples it (every record up to 500,000, else evenly spread samples). Idempotence is off, as in
            librdkafka by default (--set enable.idempotence=true to measure it); the sticky partitioner
            spreads keyless records.

            Example: kafka-perf produce --records 2000000 --record-size 100 --producers 1 --acks 1
                     kafka-perf produce --records 1500000 --throughput 50000 --acks all
            """)
        {
            topic, records, size, producers, partitions, replication, acks, batchSize, batchMessages, linger, inFlight, buffer, compression, throughput,
            bootstrap, set, output,
        };
        command.SetAction(async parse =>
        {
            var total = parse.GetValue(records);
            var valueSize = parse.GetValue(size);
            var count = Math.Max(1, parse.GetValue(producers));
            var name = parse.GetValue(topic)!;
            var servers = parse.GetValue(bootstrap)!;
            await EnsureTopic(servers, name, parse.GetValue(partitions), parse.GetValue(replication), parse.GetValue(set)!);
            KafkaOptions.Partitions(servers, name, TimeSpan.FromSeconds(30), parse.GetValue(set)!);
            var config = new ProducerConfig
            {
                BootstrapServers = servers, Acks = KafkaOptions.ParseAcks(parse.GetValue(acks)), EnableIdempotence = false,
                BatchSize = parse.GetValue(batchSize), BatchNumMessages = parse.GetValue(batchMessages), LingerMs = parse.GetValue(linger),
                MaxInFlight = parse.GetValue(inFlight), CompressionType = Enum.Parse<CompressionType>(parse.GetValue(compression)!, ignoreCase: true),
                QueueBufferingMaxKbytes = (int)Math.Max(1, parse.GetValue(buffer) / count / 1024), QueueBufferingMaxMessages = int.MaxValue,
                // Only the error matters to the tool: librdkafka then copies nothing back per record.
                DeliveryReportFields = "none",
            };
            KafkaOptions.Apply(config, parse.GetValue(set)!);
            var rate = parse.GetValue(throughput);

            var sampleEvery = PerfReport.SampleEvery(total);
            var latencies = new long[(total + sampleEvery - 1) / sampleEvery];
            long done = 0, failed = 0;
            Error? firstError = null;
            Action<DeliveryReport<Null, byte[]>> counted = report =>
            {
                if (report.Error.IsError)
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, report.Error, null);
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
                // A thread per producer, as `broker perf` has: sending waits while librdkafka's queue is full.
                tasks[p] = Task.Factory.StartNew(() =>
                {
                    using var producer = new ProducerBuilder<Null, byte[]>(config).Build();
                    var message = new Message<Null, byte[]> { Value = new byte[valueSize] };
                    Random.Shared.NextBytes(message.Value);
                    var throttler = new ThroughputThrottler(rate / count);
                    for (var i = from; i < to; i++)
                    {
                        throttler.AfterSend(i - from);
                        // librdkafka copies the value at once, so one Message is reused.
                        if (i % sampleEvery != 0)
                        {
                            Send(producer, name, message, counted);
                            continue;
                        }
                        var sample = i / sampleEvery;
                        var sent = Stopwatch.GetTimestamp();
                        Send(producer, name, message, report =>
                        {
                            latencies[sample] = Stopwatch.GetTimestamp() - sent;
                            counted(report);
                        });
                    }
                    producer.Flush(TimeSpan.FromMinutes(5));
                }, TaskCreationOptions.LongRunning);
            }
            await Task.WhenAll(tasks);
            watch.Stop();
            progress.Dispose();
            PerfReport.Produced(parse.GetValue(output) == "json", count, PerfReport.Summarize(latencies, total, valueSize, watch.Elapsed), failed, sampleEvery);
            if (firstError is not null) Console.Error.WriteLine($"error: {firstError.Reason} ({firstError.Code})");
            return failed == 0 && Interlocked.Read(ref done) == total ? 0 : 1;
        });
        return command;
    }

    /// <summary>Produce, waiting while librdkafka's queue is full (as the Java producer blocks on buffer.memory).</summary>
    private static void Send(IProducer<Null, byte[]> producer, string topic, Message<Null, byte[]> message, Action<DeliveryReport<Null, byte[]>> onDelivery)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, message, onDelivery);
                return;
            }
            catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                Thread.Sleep(1);
            }
        }
    }

    private static async Task EnsureTopic(string bootstrap, string name, int partitions, short replicationFactor, IEnumerable<string> set)
    {
        using var admin = KafkaOptions.Admin(bootstrap, set);
        try
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = replicationFactor }]);
        }
        catch (CreateTopicsException e) when (e.Results.TrueForAll(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
        {
            // Already there: produce into it as it is.
        }
    }
}
