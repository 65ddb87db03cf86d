using System.CommandLine;
using Broker.Client;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Cli.Commands;

/// <summary>`broker topics create|list|describe|alter|add-partitions|delete`.</summary>
public static class TopicsCommand
{
    public static Command Create() => new("topics", "Create, list, describe, alter and delete topics")
    {
        CreateCommand(), ListCommand(), DescribeCommand(), AlterCommand(), AddPartitionsCommand(), DeleteCommand(),
    };

    private static Command AlterCommand()
    {
        var topic = new Argument<string>("topic") { Description = "Topic whose configs to change" };
        var set = new Option<string[]>("--config") { Description = "Set a config key=value (repeatable)", AllowMultipleArgumentsPerToken = false };
        var delete = new Option<string[]>("--delete-config") { Description = "Remove a config key so the node's default applies (repeatable)", AllowMultipleArgumentsPerToken = false };
        var bootstrap = CommonOptions.Bootstrap();
        var command = new Command("alter", "Change a topic's configs; keys not named keep their values (as kafka-configs --alter).\n\nExample: broker topics alter orders --config retention.ms=3600000 --delete-config retention.bytes")
        {
            topic, set, delete, bootstrap,
        };
        command.SetAction(parse => CliRunner.Run(async () =>
        {
            var changes = new List<TopicConfigChange>();
            foreach (var (key, value) in ParseConfigs(parse.GetValue(set))) changes.Add(new TopicConfigChange(key, ConfigOperation.Set, value));
            foreach (var key in parse.GetValue(delete) ?? []) changes.Add(new TopicConfigChange(key, ConfigOperation.Delete, null));
            if (changes.Count == 0) throw new ArgumentException("nothing to change: give --config key=value or --delete-config key");
            var name = parse.GetValue(topic)!;
            await using var admin = new AdminClient(CommonOptions.Client(parse.GetValue(bootstrap)!));
            var result = await admin.AlterTopicConfigsAsync(name, changes);
            if (result.Error != ErrorCode.None) throw CliRunner.ToException(result.Error, result.ErrorMessage);
            Console.WriteLine($"altered topic {name}: {string.Join(", ", changes.Select(c => c.Operation == ConfigOperation.Set ? $"{c.Key}={c.Value}" : $"{c.Key} (default)"))}");
            return CliRunner.Ok;
        }));
        return command;
    }

    private static Command AddPartitionsCommand()
    {
        var topic = new Argument<string>("topic") { Description = "Topic to grow" };
        var partitions = new Option<int>("--partitions", "-p") { Description = "The new total number of partitions (more than today's)", Required = true };
        var bootstrap = CommonOptions.Bootstrap();
        var command = new Command("add-partitions", "Grow a topic to more partitions (as kafka-topics --alter --partitions); keys hash to other partitions afterwards.\n\nExample: broker topics add-partitions orders --partitions 8")
        {
            topic, partitions, bootstrap,
        };
        command.SetAction(parse => CliRunner.Run(async () =>
        {
            var name = parse.GetValue(topic)!;
            await using var admin = new AdminClient(CommonOptions.Client(parse.GetValue(bootstrap)!));
            var result = await admin.CreatePartitionsAsync(name, parse.GetValue(partitions));
            if (result.Error != ErrorCode.None) throw CliRunner.ToException(result.Error, result.ErrorMessage);
            Console.WriteLine($"topic {name} now has {parse.GetValue(partitions)} partitions");
            return CliRunner.Ok;
        }));
        return command;
    }

    private static Dictionary<string, string> ParseConfigs(string[]? pairs)
    {
        var map = new Dictionary<string, string>();
        foreach (var pair in pairs ?? [])
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"--config '{pair}' must be key=value, e.g. retention.ms=86400000");
            map[pair[..eq]] = pair[(eq + 1)..];
        }
        return map;
    }

    private static Command CreateCommand()
    {
        var topic = new Argument<string>("topic") { Description = "Topic name: letters, digits, '.', '_' and '-'" };
        var partitions = new Option<int>("--partitions", "-p") { Description = "Number of partitions", DefaultValueFactory = _ => 1 };
        var replication = new Option<short>("--replication-factor", "-r") { Description = "Copies of each partition, on distinct nodes (default -1: min(3, live nodes))", DefaultValueFactory = _ => -1 };
        var configs = new Option<string[]>("--config") { Description = "Topic config key=value (repeatable): retention.ms, retention.bytes, max.message.bytes, min.insync.replicas, unclean.leader.election.enable", AllowMultipleArgumentsPerToken = false };
        var bootstrap = CommonOptions.Bootstrap();
        var output = CommonOptions.Output();
        var command = new Command("create", "Create a topic.\n\nExample: broker topics create orders --partitions 4 --replication-factor 3 --config min.insync.replicas=2")
        {
            topic, partitions, replication, configs, bootstrap, output,
        };
        command.SetAction(parse => CliRunner.Run(async () =>
        {
            var map = ParseConfigs(parse.GetValue(configs));
            var name = parse.GetValue(topic)!;
            await using var admin = new AdminClient(CommonOptions.Client(parse.GetValue(bootstrap)!));
            var result = (await admin.CreateTopicsAsync([new TopicSpec(name, parse.GetValue(partitions), parse.GetValue(replication), map)]))[0];
            if (parse.GetValue(output) == "json") CommonOptions.WriteJson(new { topic = result.Name, error = result.Error.ToString(), message = result.ErrorMessage });
            if (result.Error != ErrorCode.None) throw CliRunner.ToException(result.Error, result.ErrorMessage);
            if (parse.GetValue(output) != "json") Console.WriteLine($"created topic {name} with {parse.GetValue(partitions)} partitions");
            return CliRunner.Ok;
        }));
        return command;
    }

    private static Command ListCommand()
    {
        var bootstrap = CommonOptions.Bootstrap();
        var output = CommonOptions.Output();
        var command = new Command("list", "List topic names.") { bootstrap, output };
        command.SetAction(parse => CliRunner.Run(async () =>
        {
            await using var admin = new AdminClient(CommonOptions.Client(parse.GetValue(bootstrap)!));
            var metadata = await admin.GetMetadataAsync();
            if (parse.GetValue(output) == "json") CommonOptions.WriteJson(metadata.Topics.Select(t => new { name = t.Name, partitions = t.Partitions.Count }));
            else foreach (var t in metadata.Topics) Console.WriteLine(t.Name);
            return CliRunner.Ok;
        }));
        return command;
    }

    private static Command DescribeCommand()
    {
        var topic = new Argument<string?>("topic") { Description = "Topic to describe (all when omitted)", Arity = ArgumentArity.ZeroOrOne };
        var bootstrap = CommonOptions.Bootstrap();
        var output = CommonOptions.Output();
        var command = new Command("describe", "Show a topic's partitions (leader node and epoch, replicas, in-sync replicas, offline replicas, replicas being added or removed by `broker partitions reassign`, log start, high watermark, log end) and configs.") { topic, bootstrap, output };
        command.SetAction(parse => CliRunner.Run(async () =>
        {
            var name = parse.GetValue(topic);
            await using var admin = new AdminClient(CommonOptions.Client(parse.GetValue(bootstrap)!));
            var metadata = await admin.GetMetadataAsync(name is null ? null : [name]);
            foreach (var t in metadata.Topics)
                if (t.Error != ErrorCode.None) throw CliRunner.ToException(t.Error, t.ErrorMessage);
            if (parse.GetValue(output) == "json")
            {
                CommonOptions.WriteJson(metadata.Topics.Select(t => new
                {
                    name = t.Name, topicId = t.TopicId, replicationFactor = t.ReplicationFactor, configs = t.Configs,
                    partitions = t.Partitions.Select(p => new
                    {
                        partition = p.Partition, leader = p.LeaderId, leaderAddress = p.Leader, leaderEpoch = p.LeaderEpoch,
                        replicas = p.Replicas, isr = p.Isr, offlineReplicas = p.OfflineReplicas,
                        addingReplicas = p.AddingReplicas, removingReplicas = p.RemovingReplicas,
                        logStartOffset = p.LogStartOffset, highWatermark = p.HighWatermark, logEndOffset = p.LogEndOffset, error = p.Error.ToString(),
                    }),
                }));
                return CliRunner.Ok;
            }
            foreach (var t in metadata.Topics)
            {
                var configs = t.Configs.Count == 0 ? "(defaults)" : string.Join(",", t.Configs.Select(c => $"{c.Key}={c.Value}"));
                Console.WriteLine($"Topic: {t.Name}\tTopicId: {t.TopicId}\tPartitions: {t.Partitions.Count}\tReplicationFactor: {t.ReplicationFactor}\tConfigs: {configs}");
                CommonOptions.WriteTable(["  Partition", "Leader", "Epoch", "Replicas", "Isr", "Offline", "Adding", "Removing", "LogStart", "HighWatermark", "LogEnd", "Error"],
                    t.Partitions.Select(p => (IReadOnlyList<string>)[$"  {p.Partition}", p.LeaderId < 0 ? "none" : CommonOptions.Cell(p.LeaderId), CommonOptions.Cell(p.LeaderEpoch),
                        Ids(p.Replicas), Ids(p.Isr), Ids(p.OfflineReplicas), Ids(p.AddingReplicas), Ids(p.RemovingReplicas),
                        CommonOptions.Cell(p.LogStartOffset), CommonOptions.Cell(p.HighWatermark), CommonOptions.Cell(p.LogEndOffset), p.Error == ErrorCode.None ? "" : p.Error.ToString()]));
            }
            return CliRunner.Ok;
        }));
        return command;
    }

    private static string Ids(IReadOnlyList<int> ids) => ids.Count == 0 ? "-" : string.Join(",", ids);

    private static Command DeleteCommand()
    {
        var topic = new Argument<string>("topic") { Description = "Topic to delete, with all its data" };
        var bootstrap = CommonOptions.Bootstrap();
        var command = new Command("delete", "Delete a topic and its data.") { topic, bootstrap };
        command.SetAction(parse => CliRunner.Run(async () =>
        {
            await using var admin = new AdminClient(CommonOptions.Client(parse.GetValue(bootstrap)!));
            var result = (await admin.DeleteTopicsAsync([parse.GetValue(topic)!]))[0];
            if (result.Error != ErrorCode.None) throw CliRunner.ToException(result.Error, result.ErrorMessage);
            Console.WriteLine($"deleted topic {result.Name}");
            return CliRunner.Ok;
        }));
        return command;
    }
}
