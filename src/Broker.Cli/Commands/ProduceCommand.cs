using System.CommandLine;
using System.Text;
using Broker.Client;

namespace Broker.Cli.Commands;

/// <summary>`broker produce TOPIC`: one record per line of standard input.</summary>
public static class ProduceCommand
{
    public static Command Create()
    {
        var topic = new Argument<string>("topic") { Description = "Topic to write to" };
        var separator = new Option<string?>("--key-separator") { Description = "Split each line into key and value at the first occurrence of this text" };
        var acks = AcksOption.Create();
        var compression = CompressionOption.Create();
        var partition = new Option<int?>("--partition") { Description = "Write every record to this partition (default: by key hash, or sticky when keyless)" };
        var linger = new Option<int>("--linger-ms") { Description = "How long a batch waits for more records", DefaultValueFactory = _ => 5 };
        var batchSize = new Option<int>("--batch-size") { Description = "Bytes at which a batch is sent", DefaultValueFactory = _ => 65536 };
        var bootstrap = CommonOptions.Bootstrap();
        var command = new Command("produce", """
            Produce one record per line of standard input. Exits 0 only when every record was acknowledged,
            and reports how many were on standard error.

            Example: seq 1 1000 | awk '{print "user-" $1 % 10 ":" $1}' | broker produce orders --key-separator :
            """)
        {
            topic, separator, acks, compression, partition, linger, batchSize, bootstrap,
        };
        command.SetAction(parse => CliRunner.Run(async () =>
        {
            var name = parse.GetValue(topic)!;
            var sep = parse.GetValue(separator);
            var fixedPartition = parse.GetValue(partition) ?? -1;
            var ackMode = AcksOption.Parse(parse.GetValue(acks));
            var config = CommonOptions.Secure(new ProducerConfig
            {
                BootstrapServers = parse.GetValue(bootstrap)!, Acks = ackMode,
                LingerMs = parse.GetValue(linger), BatchSize = parse.GetValue(batchSize), RequestTimeout = TimeSpan.FromSeconds(30),
                CompressionType = CompressionOption.Parse(parse.GetValue(compression)),
            });
            long acknowledged = 0, failed = 0, malformed = 0, lineNumber = 0;
            BrokerException? firstError = null;
            await using (var producer = new Producer(config))
            {
                Action<DeliveryResult?, BrokerException?> onDelivery = (result, error) =>
                {
                    if (error is null)
                    {
                        Interlocked.Increment(ref acknowledged);
                    }
                    else
                    {
                        Interlocked.Increment(ref failed);
                        Interlocked.CompareExchange(ref firstError, error, null);
                    }
                };
                using var input = new StreamReader(Console.OpenStandardInput(), Encoding.UTF8, false, 1 << 16);
                while (await input.ReadLineAsync() is { } line)
                {
                    lineNumber++;
                    var message = new Message();
                    if (sep is null)
                    {
                        message.Value = Encoding.UTF8.GetBytes(line);
                    }
                    else
                    {
                        var at = line.IndexOf(sep, StringComparison.Ordinal);
                        if (at < 0)
                        {
                            if (malformed++ == 0) Console.Error.WriteLine($"line {lineNumber} has no key separator '{sep}'; skipped (every such line counts as failed)");
                            continue;
                        }
                        message.Key = Encoding.UTF8.GetBytes(line, 0, at);
                        message.Value = Encoding.UTF8.GetBytes(line, at + sep.Length, line.Length - at - sep.Length);
                    }
                    if (fixedPartition >= 0) producer.Produce(name, fixedPartition, message, onDelivery);
                    else producer.Produce(name, message, onDelivery);
                    if (firstError is { Error: Broker.Protocol.ErrorCode.UnknownTopic or Broker.Protocol.ErrorCode.UnknownPartition }) break;
                }
                await producer.FlushAsync();
            }
            failed += malformed;
            if (ackMode == Acks.None) Console.Error.WriteLine($"{acknowledged} records sent (acks=0: not confirmed), {failed} failed");
            else Console.Error.WriteLine($"{acknowledged} records acknowledged, {failed} failed");
            if (firstError is not null) throw firstError;
            return failed == 0 ? CliRunner.Ok : CliRunner.Failed;
        }));
        return command;
    }
}
