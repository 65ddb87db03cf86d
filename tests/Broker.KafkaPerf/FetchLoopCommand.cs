using System.Buffers.Binary;
using System.CommandLine;
using System.Diagnostics;
using System.Net.Sockets;
using Broker.Cli.Commands;
using Broker.Kafka;
using Broker.Kafka.Messages;

namespace Broker.KafkaPerf;

/// <summary>
/// `kafka-perf fetch-loop`: the node's side of a Kafka consume alone. It fetches as librdkafka does (one Fetch in flight
/// to the node, every partition from offset 0, max.partition.fetch.bytes each) but decodes nothing: records are counted
/// from batch headers. Next to `consume` (the same fetches plus a real client's decoding), it says which side the time
/// goes to.
/// </summary>
internal static class FetchLoopCommand
{
    public static Command Create()
    {
        var topic = new Option<string>("--topic") { Description = "Topic to read from the beginning", DefaultValueFactory = _ => "perf" };
        var records = new Option<long>("--records") { Description = "Records to read in total", DefaultValueFactory = _ => 1_000_000 };
        var fetchBytes = new Option<int>("--fetch-max-bytes") { Description = "Bytes per partition per fetch, as max.partition.fetch.bytes", DefaultValueFactory = _ => 1048576 };
        var bootstrap = KafkaOptions.Bootstrap();
        var output = KafkaOptions.Output();
        var command = new Command("fetch-loop", """
            Read a topic from the beginning with raw Fetch requests (v12, one in flight, like librdkafka) without decoding
            records, and report records/s: the node's side of a Kafka consume, without the client's.

            Example: kafka-perf fetch-loop --records 2000000 --topic kafka-1
            """)
        {
            topic, records, fetchBytes, bootstrap, output,
        };
        command.SetAction(async parse =>
        {
            var name = parse.GetValue(topic)!;
            var total = parse.GetValue(records);
            var servers = parse.GetValue(bootstrap)!;
            var partitions = KafkaOptions.Partitions(servers, name, TimeSpan.FromSeconds(10), []);
            var first = servers.Split(',')[0];
            var colon = first.LastIndexOf(':');
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(first[..colon], int.Parse(first[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
            var offsets = partitions.ToDictionary(p => p, _ => 0L);
            long done = 0, bytes = 0;
            var correlation = 0;
            var waited = TimeSpan.Zero; // request sent to response read: the node's side of each round trip
            var watch = Stopwatch.StartNew();
            while (done < total)
            {
                var request = new FetchRequest
                {
                    ReplicaId = -1, MaxWaitMs = 500, MinBytes = 1, MaxBytes = 52428800, SessionEpoch = -1,
                    Topics = [new() { Topic = name, Partitions = [.. partitions.Select(p => new FetchRequest.FetchPartition { Partition = p, FetchOffset = offsets[p], PartitionMaxBytes = parse.GetValue(fetchBytes), CurrentLeaderEpoch = -1, LogStartOffset = -1 })] }],
                };
                var sent = Stopwatch.GetTimestamp();
                var response = await ExchangeAsync(socket, ++correlation, request);
                waited += Stopwatch.GetElapsedTime(sent);
                if (response.ErrorCode != 0)
                {
                    Console.Error.WriteLine($"error: fetch answered error {response.ErrorCode}");
                    return 1;
                }
                var progressed = false;
                foreach (var p in response.Responses.SelectMany(t => t.Partitions))
                {
                    if (p.ErrorCode != 0)
                    {
                        Console.Error.WriteLine($"error: partition {p.PartitionIndex} answered error {p.ErrorCode}");
                        return 1;
                    }
                    bytes += p.Records.Length;
                    var span = p.Records.Span;
                    // RecordBatch v2 header: base offset at 0, batch length at 8 (bytes after it), last offset delta at 23.
                    while (span.Length >= 61 && span.Length >= 12 + BinaryPrimitives.ReadInt32BigEndian(span[8..]))
                    {
                        var baseOffset = BinaryPrimitives.ReadInt64BigEndian(span);
                        var next = baseOffset + BinaryPrimitives.ReadInt32BigEndian(span[23..]) + 1;
                        if (next > offsets[p.PartitionIndex])
                        {
                            done += next - Math.Max(baseOffset, offsets[p.PartitionIndex]);
                            offsets[p.PartitionIndex] = next;
                            progressed = true;
                        }
                        span = span[(12 + BinaryPrimitives.ReadInt32BigEndian(span[8..]))..];
                    }
                }
                if (!progressed)
                {
                    Console.Error.WriteLine($"error: only {done} of {total} records are in the topic; produce more records first or lower --records");
                    return 1;
                }
            }
            watch.Stop();
            Console.Error.WriteLine($"{correlation} fetches, {bytes / 1024.0 / correlation:0} KiB and {waited.TotalMilliseconds / correlation:0.0} ms (request to whole response) each on average");
            PerfReport.Consumed(parse.GetValue(output) == "json", 1, Math.Min(done, total), watch.Elapsed.TotalSeconds, bytes);
            return 0;
        });
        return command;
    }

    private static async Task<FetchResponse> ExchangeAsync(Socket socket, int correlationId, FetchRequest request)
    {
        using (var writer = new KafkaWriter())
        {
            var size = writer.ReserveInt32();
            new RequestHeader { RequestApiKey = FetchRequest.Api, RequestApiVersion = 12, CorrelationId = correlationId, ClientId = "kafka-perf" }.Write(writer, 2);
            request.Write(writer, 12);
            writer.PatchInt32(size, writer.Length - 4);
            await socket.SendAsync(writer.WrittenMemory);
        }
        var prefix = new byte[4];
        await ReceiveExactlyAsync(socket, prefix);
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(prefix)];
        await ReceiveExactlyAsync(socket, body);
        var reader = new KafkaReader(body);
        ResponseHeader.Read(ref reader, 1);
        return FetchResponse.Read(ref reader, 12);
    }

    private static async Task ReceiveExactlyAsync(Socket socket, byte[] buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read));
            if (n == 0) throw new IOException("the node closed the connection");
            read += n;
        }
    }
}
