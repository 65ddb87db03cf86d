using System.CommandLine;
using Confluent.Kafka;

namespace Broker.KafkaPerf;

/// <summary>
/// `kafka-perf group-member`: one Confluent.Kafka consumer in a group, run until killed. It commits every record it
/// reads (synchronously) and prints its assignment whenever it changes and each record it committed, so a test can
/// kill it (SIGKILL: no leave, no close) and check what the rest of the group does.
/// </summary>
internal static class GroupMemberCommand
{
    public static Command Create()
    {
        var topic = new Option<string>("--topic") { Description = "Topic to subscribe to", DefaultValueFactory = _ => "perf" };
        var group = new Option<string>("--group") { Description = "Consumer group id", DefaultValueFactory = _ => "kafka-perf-group" };
        var protocol = new Option<string>("--group-protocol") { Description = "classic or consumer (KIP-848)", DefaultValueFactory = _ => "consumer" };
        protocol.AcceptOnlyFromAmong("classic", "consumer");
        var bootstrap = KafkaOptions.Bootstrap();
        var set = KafkaOptions.Set();
        var command = new Command("group-member", """
            Consume a topic as a member of a consumer group until killed; commit each record and print
            "assigned: t[p],..." when the assignment changes and "committed: t[p]@offset value" per record.

            Example: kafka-perf group-member --group billing --topic orders --group-protocol consumer
            """)
        {
            topic, group, protocol, bootstrap, set,
        };
        command.SetAction(parse =>
        {
            var config = new ConsumerConfig
            {
                BootstrapServers = parse.GetValue(bootstrap)!,
                GroupId = parse.GetValue(group)!,
                GroupProtocol = parse.GetValue(protocol) == "classic" ? GroupProtocol.Classic : GroupProtocol.Consumer,
                AutoOffsetReset = AutoOffsetReset.Earliest,
                EnableAutoCommit = false,
            };
            KafkaOptions.Apply(config, parse.GetValue(set)!);
            using var consumer = new ConsumerBuilder<Ignore, string>(config).Build();
            consumer.Subscribe(parse.GetValue(topic)!);
            var shown = "";
            var running = true;
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                running = false;
            };
            while (running)
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
                var now = string.Join(",", consumer.Assignment.OrderBy(p => p.Partition.Value).Select(p => p.ToString()));
                if (now != shown)
                {
                    Console.WriteLine($"assigned: {now}");
                    shown = now;
                }
                if (r?.Message is null) continue;
                Broker.Tests.StaleEpochCommit.Commit(consumer, r);
                Console.WriteLine($"committed: {r.TopicPartitionOffset} {r.Message.Value}");
            }
            consumer.Close(); // Ctrl-C leaves the group; SIGKILL does not
        });
        return command;
    }
}
