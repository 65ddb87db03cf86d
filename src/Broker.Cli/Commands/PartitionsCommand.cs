using System.CommandLine;
using System.Diagnostics;
using Broker.Client;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Cli.Commands;

/// <summary>`broker partitions reassign`: move replicas to other nodes, e.g. off a node that is gone for good.</summary>
public static class PartitionsCommand
{
    public static Command Create() => new("partitions", "Manage where partition replicas live") { ReassignCommand() };

    private static Command ReassignCommand()
    {
        var topic = new Argument<string?>("topic") { Description = "Topic whose partition moves (with --partition and --replicas)", Arity = ArgumentArity.ZeroOrOne };
        var partition = new Option<int?>("--partition", "-p") { Description = "Partition to move" };
        var replicas = new Option<string?>("--replicas") { Description = "Target node ids, comma-separated, preferred leader first (e.g. 1,4,3)" };
        var replaceNode = new Option<int?>("--replace-node") { Description = "Move every replica on this node id (of every topic) to other live nodes" };
        var toNode = new Option<int?>("--to-node") { Description = "With --replace-node: the node to move them to (default: the least loaded live node without a copy)" };
        var wait = new Option<bool>("--wait") { Description = "Wait until the new replicas are in sync and the old ones removed, showing progress" };
        var timeout = new Option<int>("--timeout") { Description = "With --wait: give up waiting after this many seconds (the move goes on)", DefaultValueFactory = _ => 600 };
        var bootstrap = CommonOptions.Bootstrap();
        var command = new Command("reassign", """
            Move partition replicas to other nodes. The new replicas copy the log from the leader and join the
            in-sync replicas; then the old ones are removed (and the leader moves if it was on one of them).
            Nothing is removed before its data is on the replicas that replace it.

            Examples:
              broker partitions reassign orders --partition 0 --replicas 1,4,3
              broker partitions reassign --replace-node 2 --wait      (node 2 is gone for good)
            """)
        {
            topic, partition, replicas, replaceNode, toNode, wait, timeout, bootstrap,
        };
        command.SetAction(parse => CliRunner.Run(async () =>
        {
            await using var admin = new AdminClient(CommonOptions.Client(parse.GetValue(bootstrap)!));
            IReadOnlyList<PartitionReassignment> moves;
            if (parse.GetValue(replaceNode) is { } dead)
            {
                var metadata = await admin.GetMetadataAsync();
                var live = metadata.Brokers.Where(b => b.NodeId >= 0 && b.Status == "Up").Select(b => b.NodeId).ToList();
                moves = ReassignmentPlanner.ReplaceNode(metadata.Topics, dead, live, parse.GetValue(toNode));
                if (moves.Count == 0)
                {
                    Console.WriteLine($"node {dead} holds no replicas; nothing to move");
                    return CliRunner.Ok;
                }
            }
            else
            {
                var name = parse.GetValue(topic) ?? throw new ArgumentException("name a topic with --partition and --replicas, or use --replace-node <id>");
                var p = parse.GetValue(partition) ?? throw new ArgumentException("--partition is required with a topic");
                var target = ParseIds(parse.GetValue(replicas) ?? throw new ArgumentException("--replicas is required with a topic, e.g. --replicas 1,4,3"));
                moves = [new PartitionReassignment(name, p, target)];
            }

            var results = await admin.ReassignPartitionsAsync(moves);
            var failed = 0;
            for (var i = 0; i < results.Count; i++)
            {
                var r = results[i];
                if (r.Error == ErrorCode.None)
                {
                    Console.WriteLine($"{r.Topic}/{r.Partition}: moving to nodes [{string.Join(",", moves[i].Replicas)}]");
                }
                else
                {
                    failed++;
                    Console.Error.WriteLine($"{r.Topic}/{r.Partition}: {r.Error}: {r.ErrorMessage}");
                }
            }
            if (failed == results.Count) throw CliRunner.ToException(results[0].Error, results[0].ErrorMessage);
            if (!parse.GetValue(wait))
            {
                Console.WriteLine("the move runs in the background; watch it with `broker topics describe` (Adding/Removing columns)");
                return failed == 0 ? CliRunner.Ok : CliRunner.Failed;
            }
            var done = await WaitAsync(admin, moves.Where((_, i) => results[i].Error == ErrorCode.None).ToList(), TimeSpan.FromSeconds(parse.GetValue(timeout)));
            return done && failed == 0 ? CliRunner.Ok : CliRunner.Failed;
        }));
        return command;
    }

    private static int[] ParseIds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var ids = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], out ids[i]))
                throw new ArgumentException($"--replicas '{text}' must be node ids separated by commas, e.g. 1,4,3 (ids are in `broker cluster status`)");
        }

        return ids;
    }

    /// <summary>Polls metadata until every move is done, printing each partition's progress when it changes.</summary>
    private static async Task<bool> WaitAsync(AdminClient admin, List<PartitionReassignment> moves, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var last = new Dictionary<string, string>();
        while (true)
        {
            var metadata = await admin.GetMetadataAsync(moves.Select(m => m.Topic).Distinct().ToList());
            var pending = 0;
            foreach (var move in moves)
            {
                var p = metadata.Topics.FirstOrDefault(t => t.Name == move.Topic)?.Partitions.FirstOrDefault(x => x.Partition == move.Partition);
                if (p is null) continue;
                var moving = p.AddingReplicas.Count > 0 || p.RemovingReplicas.Count > 0;
                if (moving) pending++;
                var line = moving
                    ? $"replicas [{string.Join(",", p.Replicas)}], in sync [{string.Join(",", p.Isr)}], adding [{string.Join(",", p.AddingReplicas)}], removing [{string.Join(",", p.RemovingReplicas)}], leader {p.LeaderId}"
                    : $"done: replicas [{string.Join(",", p.Replicas)}], in sync [{string.Join(",", p.Isr)}], leader {p.LeaderId}";
                var key = $"{move.Topic}/{move.Partition}";
                if (last.GetValueOrDefault(key) == line) continue;
                last[key] = line;
                Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:0.0}s] {key}: {line}");
            }
            if (pending == 0)
            {
                Console.WriteLine($"all {moves.Count} move(s) done in {clock.Elapsed.TotalSeconds:0.0}s");
                return true;
            }
            if (clock.Elapsed > timeout)
            {
                Console.Error.WriteLine($"{pending} move(s) still running after {timeout.TotalSeconds:0}s; they go on in the background (`broker topics describe` shows them)");
                return false;
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }
}
