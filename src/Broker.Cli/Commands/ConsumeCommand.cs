using System.CommandLine;
using Broker.Client;
using Broker.Protocol;

namespace Broker.Cli.Commands;

/// <summary>`broker consume TOPIC`: prints records, like Kafka's console consumer; with --group as a member of a consumer group.</summary>
public static class ConsumeCommand
{
    public static Command Create()
    {
        var topic = new Argument<string>("topic") { Description = "Topic to read" };
        var fromBeginning = new Option<bool>("--from-beginning") { Description = "Start at the oldest record (default: only new records)" };
        var partition = new Option<int?>("--partition") { Description = "Read only this partition (default: all)" };
        var offset = new Option<long?>("--offset") { Description = "Start at this offset in every partition read" };
        var maxMessages = new Option<long?>("--max-messages") { Description = "Stop after this many records" };
        var timeoutMs = new Option<int?>("--timeout-ms") { Description = "Stop when no record arrived for this long (default: run until Ctrl+C)" };
        var group = new Option<string?>("--group", "-g") { Description = "Consume as a member of this consumer group: partitions are shared with its other members and progress is committed (resumes where the group left off)" };
        var sessionTimeout = new Option<int>("--session-timeout-ms") { Description = "With --group: how long the group waits for a silent member before giving its partitions away", DefaultValueFactory = _ => 10_000 };
        var assignor = new Option<string>("--assignor") { Description = "With --group: range, roundrobin, sticky or cooperative-sticky (rebalances without stopping the partitions that stay)", DefaultValueFactory = _ => "range" };
        var format = new Option<string>("--format") { Description = "Line template with {topic} {partition} {offset} {key} {value} {timestamp}", DefaultValueFactory = _ => "{value}" };
        var bootstrap = CommonOptions.Bootstrap();
        var command = new Command("consume", """
            Print records of a topic, one per line.

            Example: broker consume orders --from-beginning --max-messages 10 --format '{partition} {offset} {key} {value}'
                     broker consume orders --group billing     (shares the partitions with other members of 'billing')
            """)
        {
            topic, fromBeginning, partition, offset, maxMessages, timeoutMs, group, sessionTimeout, assignor, format, bootstrap,
        };
        command.SetAction((parse, ct) => CliRunner.Run(async () =>
        {
            var name = parse.GetValue(topic)!;
            var config = CommonOptions.Client(parse.GetValue(bootstrap)!);
            var groupId = parse.GetValue(group);
            if (groupId is not null && (parse.GetValue(partition) is not null || parse.GetValue(offset) is not null))
                throw new ArgumentException("--group assigns partitions and starts at the group's committed offsets: it cannot be combined with --partition or --offset (reset a group with `broker groups reset-offsets`)");
            await using var admin = new AdminClient(config);
            var metadata = await admin.GetMetadataAsync([name]);
            var t = metadata.Topics[0];
            if (t.Error != ErrorCode.None) throw CliRunner.ToException(t.Error, t.ErrorMessage);
            var start = parse.GetValue(offset) ?? (parse.GetValue(fromBeginning) ? Offset.Beginning : Offset.End);
            var only = parse.GetValue(partition);
            if (only is { } p && (p < 0 || p >= t.Partitions.Count))
                throw new BrokerException(ErrorCode.UnknownPartition, ErrorText.UnknownPartition(name, t.Partitions.Count, p));
            var assignment = t.Partitions.Where(x => only is null || x.Partition == only).Select(x => new TopicPartitionOffset(name, x.Partition, start)).ToList();
            var consumerConfig = CommonOptions.Secure(new ConsumerConfig { BootstrapServers = config.BootstrapServers, RequestTimeout = config.RequestTimeout });
            if (groupId is not null)
            {
                consumerConfig.GroupId = groupId;
                consumerConfig.ClientId = $"broker-cli-{Environment.ProcessId}";
                consumerConfig.SessionTimeoutMs = parse.GetValue(sessionTimeout);
                consumerConfig.HeartbeatIntervalMs = Math.Max(100, consumerConfig.SessionTimeoutMs / 4);
                consumerConfig.PartitionAssignmentStrategy = parse.GetValue(assignor)!;
                consumerConfig.AutoOffsetReset = parse.GetValue(fromBeginning) ? AutoOffsetReset.Earliest : AutoOffsetReset.Latest;
                // Commits are made here, after the printed lines are flushed, so a crash never commits a record
                // that did not reach stdout (at-least-once for whoever reads the output).
                consumerConfig.EnableAutoCommit = false;
            }

            var max = parse.GetValue(maxMessages) ?? long.MaxValue;
            var idle = parse.GetValue(timeoutMs) is { } ms ? TimeSpan.FromMilliseconds(ms) : Timeout.InfiniteTimeSpan;
            var template = new RecordFormat(parse.GetValue(format)!);
            using var consumer = new Consumer(consumerConfig);
            var output = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false), 1 << 16) { AutoFlush = false };
            var committer = new PrintedCommitter(consumer, output);
            if (groupId is null)
            {
                consumer.Assign(assignment);
            }
            else
            {
                consumer.PartitionsRevoked += _ => committer.FlushAndCommit();
                consumer.Subscribe(name);
            }
            long count = 0;
            try
            {
                while (count < max)
                {
                    using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    if (idle != Timeout.InfiniteTimeSpan) wait.CancelAfter(idle);
                    // Take what is buffered without waiting; flush the output before blocking so a person sees records as they come.
                    var record = consumer.Consume(TimeSpan.Zero);
                    if (record is null)
                    {
                        await output.FlushAsync(CancellationToken.None);
                        if (groupId is not null) committer.CommitIfPrinted();
                    }
                    try
                    {
                        record ??= consumer.Consume(wait.Token);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        break; // idle timeout
                    }
                    if (record is null) break;
                    template.Write(output, record);
                    count++;
                    if (groupId is not null) committer.Printed();
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                await output.FlushAsync(CancellationToken.None);
                // In a group: commit exactly what was printed and leave, so the partitions move at once.
                if (groupId is not null)
                {
                    committer.FlushAndCommit();
                    consumer.Close();
                }
                Console.Error.WriteLine($"Processed a total of {count} messages");
            }
            return CliRunner.Ok;
        }));
        return command;
    }

    /// <summary>
    /// Commits what was printed: at most once a second while records flow, whenever the consumer goes idle, and
    /// before partitions are revoked. Always flush first, then commit.
    /// </summary>
    private sealed class PrintedCommitter(Consumer consumer, StreamWriter output)
    {
        private long _next = Environment.TickCount64 + 1000;
        private bool _printed;

        public void Printed()
        {
            _printed = true;
            if (Environment.TickCount64 >= _next) FlushAndCommit();
        }

        public void CommitIfPrinted()
        {
            if (_printed) FlushAndCommit();
        }

        public void FlushAndCommit()
        {
            _next = Environment.TickCount64 + 1000;
            _printed = false;
            output.Flush();
            try
            {
                consumer.Commit();
            }
            catch (BrokerException ex)
            {
                // After a rebalance the group refuses commits of the old generation: the next owner re-reads from
                // the last commit, so records may repeat but none is lost.
                Console.Error.WriteLine($"warning: commit refused ({ex.Error}): {ex.Message}");
            }
        }
    }
}
