using System.CommandLine;
using Broker.Cli.Watching;
using Broker.Client;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Cli.Commands;

/// <summary>`broker groups list|describe|reset-offsets|delete`, like kafka-consumer-groups.</summary>
public static class GroupsCommand
{
    public static Command Create() => new("groups", "List, describe and delete consumer groups, and reset their committed offsets")
    {
        ListCommand(), DescribeCommand(), ResetOffsetsCommand(), DeleteCommand(),
    };

    private static Command DeleteCommand()
    {
        var group = new Argument<string>("group") { Description = "Consumer group to delete, with its committed offsets" };
        var bootstrap = CommonOptions.Bootstrap();
        var command = new Command("delete", "Delete a consumer group and its committed offsets. As in Kafka, only while it has no members.\n\nExample: broker groups delete billing")
        {
            group, bootstrap,
        };
        command.SetAction(parse => CliRunner.Run(async () =>
        {
            var name = parse.GetValue(group)!;
            await using var admin = new AdminClient(CommonOptions.Client(parse.GetValue(bootstrap)!));
            await admin.DeleteGroupAsync(name);
            Console.WriteLine($"deleted group {name}");
            return CliRunner.Ok;
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var bootstrap = CommonOptions.Bootstrap();
        var output = CommonOptions.Output();
        var command = new Command("list", "List consumer groups with their state and number of members.") { bootstrap, output };
        command.SetAction(parse => CliRunner.Run(async () =>
        {
            await using var admin = new AdminClient(CommonOptions.Client(parse.GetValue(bootstrap)!));
            var groups = await admin.ListGroupsAsync();
            if (parse.GetValue(output) == "json")
            {
                CommonOptions.WriteJson(groups.Select(g => new { group = g.GroupId, state = g.State, protocolType = g.ProtocolType, members = g.Members }));
                return CliRunner.Ok;
            }
            CommonOptions.WriteTable(["GROUP", "STATE", "MEMBERS"], groups.Select(g => (IReadOnlyList<string>)[g.GroupId, g.State, CommonOptions.Cell(g.Members)]));
            return CliRunner.Ok;
        }));
        return command;
    }

    /// <summary>One row of `groups describe`: a partition the group owns or has committed.</summary>
    private sealed record PartitionLag(string Topic, int Partition, long? Committed, long LogEnd, long? Lag, string? Member, string? ClientId);

    private static Command DescribeCommand()
    {
        var group = new Argument<string>("group") { Description = "Consumer group to describe" };
        var bootstrap = CommonOptions.Bootstrap();
        var output = CommonOptions.Output();
        var watch = CommonOptions.Watch();
        var interval = CommonOptions.Interval();
        var command = new Command("describe", """
            Show a group's state and members, and per partition: committed offset, log end offset, lag and owner.
            With --watch it keeps redrawing them (every --interval) and lists rebalances as they happen.

            Example: broker groups describe billing --output json
                     broker groups describe billing --watch
            """)
        {
            group, bootstrap, output, watch, interval,
        };
        command.SetAction((parse, ct) => CliRunner.Run(async () =>
        {
            if (parse.GetValue(watch))
            {
                var every = WatchLoop.ParseInterval(parse.GetValue(interval)!);
                await using var watching = new AdminClient(CommonOptions.WatchClient(parse.GetValue(bootstrap)!));
                using var screen = Screen.ForConsole(parse.GetValue(output) == "json");
                var view = new GroupWatch(watching, parse.GetValue(group)!, screen, every, TimeProvider.System);
                return await WatchLoop.RunAsync(every, view.FetchAsync, view.Show, view.Failed, ct);
            }
            await using var admin = new AdminClient(CommonOptions.Client(parse.GetValue(bootstrap)!));
            var described = await admin.DescribeGroupAsync(parse.GetValue(group)!);
            var rows = await Lags(admin, described);
            var totalLag = rows.Sum(r => r.Lag ?? 0);
            if (parse.GetValue(output) == "json")
            {
                CommonOptions.WriteJson(new
                {
                    group = described.GroupId, state = described.State, protocol = described.Protocol, generation = described.GenerationId, totalLag,
                    members = described.Members.Select(m => new { memberId = m.MemberId, clientId = m.ClientId, partitions = m.Assignment.Select(p => new { topic = p.Topic, partition = p.Partition }) }),
                    partitions = rows.Select(r => new { topic = r.Topic, partition = r.Partition, committedOffset = r.Committed, logEndOffset = r.LogEnd, lag = r.Lag, memberId = r.Member, clientId = r.ClientId }),
                });
                return CliRunner.Ok;
            }
            Console.WriteLine($"Group: {described.GroupId}\tState: {described.State}\tGeneration: {described.GenerationId}\tAssignor: {described.Protocol}\tMembers: {described.Members.Count}\tTotal lag: {totalLag}");
            CommonOptions.WriteTable(["TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "CLIENT-ID"],
                rows.Select(r => (IReadOnlyList<string>)[r.Topic, CommonOptions.Cell(r.Partition), r.Committed is { } committed ? CommonOptions.Cell(committed) : "-", CommonOptions.Cell(r.LogEnd), r.Lag is { } lag ? CommonOptions.Cell(lag) : "-", r.Member ?? "-", r.ClientId ?? "-"]));
            return CliRunner.Ok;
        }));
        return command;
    }

    /// <summary>Every partition of every topic the group owns or has committed, with its lag against the log end.</summary>
    private static async Task<List<PartitionLag>> Lags(AdminClient admin, DescribeGroupResponse group)
    {
        var topics = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var o in group.Offsets) topics.Add(o.Topic);
        foreach (var m in group.Members)
            foreach (var p in m.Assignment) topics.Add(p.Topic);
        var rows = new List<PartitionLag>();
        if (topics.Count == 0) return rows;
        var metadata = await admin.GetMetadataAsync([.. topics]);
        foreach (var t in metadata.Topics)
        {
            if (t.Error != ErrorCode.None) continue; // a topic deleted since: nothing to lag behind
            foreach (var p in t.Partitions)
            {
                var committed = group.Offsets.FirstOrDefault(o => o.Topic == t.Name && o.Partition == p.Partition)?.Offset;
                var owner = group.Members.FirstOrDefault(m => m.Assignment.Contains(new TopicPartition(t.Name, p.Partition)));
                long? lag = committed is { } c ? Math.Max(0, p.LogEndOffset - c) : null;
                rows.Add(new PartitionLag(t.Name, p.Partition, committed, p.LogEndOffset, lag, owner?.MemberId, owner?.ClientId));
            }
        }
        return rows;
    }

    private static Command ResetOffsetsCommand()
    {
        var group = new Argument<string>("group") { Description = "Consumer group whose offsets to set" };
        var topic = new Option<string>("--topic") { Description = "Topic whose offsets to set", Required = true };
        var partition = new Option<int?>("--partition") { Description = "Only this partition (default: all)" };
        var toEarliest = new Option<bool>("--to-earliest") { Description = "Set to the oldest record still in the log" };
        var toLatest = new Option<bool>("--to-latest") { Description = "Set to the log end (skip everything there now)" };
        var toOffset = new Option<long?>("--to-offset") { Description = "Set to this offset (clamped to the partition's valid range)" };
        var bootstrap = CommonOptions.Bootstrap();
        var output = CommonOptions.Output();
        var command = new Command("reset-offsets", """
            Set a group's committed offsets. As in Kafka, only while the group has no active members.

            Example: broker groups reset-offsets billing --topic orders --to-earliest
            """)
        {
            group, topic, partition, toEarliest, toLatest, toOffset, bootstrap, output,
        };
        command.SetAction(parse => CliRunner.Run(async () =>
        {
            var choices = (parse.GetValue(toEarliest) ? 1 : 0) + (parse.GetValue(toLatest) ? 1 : 0) + (parse.GetValue(toOffset) is null ? 0 : 1);
            if (choices != 1) throw new ArgumentException("give exactly one of --to-earliest, --to-latest or --to-offset N");
            if (parse.GetValue(toOffset) is < 0) throw new ArgumentException("--to-offset must be 0 or more");
            var groupId = parse.GetValue(group)!;
            var name = parse.GetValue(topic)!;
            await using var admin = new AdminClient(CommonOptions.Client(parse.GetValue(bootstrap)!));
            var metadata = (await admin.GetMetadataAsync([name])).Topics[0];
            if (metadata.Error != ErrorCode.None) throw CliRunner.ToException(metadata.Error, metadata.ErrorMessage);
            var only = parse.GetValue(partition);
            if (only is { } p && (p < 0 || p >= metadata.Partitions.Count))
                throw new BrokerException(ErrorCode.UnknownPartition, ErrorText.UnknownPartition(name, metadata.Partitions.Count, p));

            var offsets = new List<TopicPartitionOffset>();
            foreach (var pm in metadata.Partitions)
            {
                if (only is not null && pm.Partition != only) continue;
                var target = parse.GetValue(toEarliest) ? pm.LogStartOffset
                    : parse.GetValue(toLatest) ? pm.LogEndOffset
                    : Math.Clamp(parse.GetValue(toOffset)!.Value, pm.LogStartOffset, pm.LogEndOffset);
                offsets.Add(new TopicPartitionOffset(name, pm.Partition, target));
            }
            await admin.SetGroupOffsetsAsync(groupId, offsets);
            if (parse.GetValue(output) == "json")
                CommonOptions.WriteJson(offsets.Select(o => new { group = groupId, topic = o.Topic, partition = o.Partition, offset = o.Offset }));
            else
                CommonOptions.WriteTable(["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"], offsets.Select(o => (IReadOnlyList<string>)[groupId, o.Topic, CommonOptions.Cell(o.Partition), CommonOptions.Cell(o.Offset)]));
            return CliRunner.Ok;
        }));
        return command;
    }
}
