using System.CommandLine;
using Broker.KafkaPerf;

// kafka-perf: the Kafka-path twin of `broker perf`. Same options, same output lines, but the records travel
// through a node's Kafka listener in a real Kafka client (Confluent.Kafka on librdkafka), so the two paths
// can be measured side by side (README, Benchmarks).
var root = new RootCommand("""
    kafka-perf: `broker perf produce|consume` through the Kafka listener with Confluent.Kafka (librdkafka).

    Options and output mirror `broker perf`, so the two can run side by side against one node:
      broker perf produce --records 2000000 --record-size 100 --acks 1 --bootstrap 127.0.0.1:9190 --topic native-1
      kafka-perf produce  --records 2000000 --record-size 100 --acks 1 --bootstrap 127.0.0.1:9092 --topic kafka-1
    (default bootstrap 127.0.0.1:9092, the node's Kafka port). Every command has --help.
    """)
{
    ProduceCommand.Create(),
    ConsumeCommand.Create(),
    FetchLoopCommand.Create(),
    GroupMemberCommand.Create(),
};
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine("run `kafka-perf --help` for usage");
    return 2;
}
return await parsed.InvokeAsync();
