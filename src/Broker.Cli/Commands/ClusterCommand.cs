using System.CommandLine;
using Broker.Cli.Watching;
using Broker.Client;

namespace Broker.Cli.Commands;

/// <summary>`broker cluster status`: nodes (id, address, roles, state) and which node leads which partition.</summary>
public static class ClusterCommand
{
    public static Command Create()
    {
        var bootstrap = CommonOptions.Bootstrap();
        var output = CommonOptions.Output();
        var watch = CommonOptions.Watch();
        var interval = CommonOptions.Interval();
        var status = new Command("status", """
            Show the cluster's nodes (broker id, address, roles, state) and which node leads which partition. Replicas and in-sync replicas per partition: `broker topics describe`.

            With --watch it keeps redrawing (every --interval) nodes and every partition's leader, epoch, ISR, offline replicas,
            high watermark and under-replicated flag, highlights what changed and lists events ("node 2 unreachable",
            "orders/3 leader 2 → 1, epoch 5"); with --output json, one JSON document per line per refresh.

            Example: broker cluster status --watch --interval 2s
            """) { bootstrap, output, watch, interval };
        status.SetAction((parse, ct) => CliRunner.Run(async () =>
        {
            if (parse.GetValue(watch))
            {
                var every = WatchLoop.ParseInterval(parse.GetValue(interval)!);
                await using var watching = new AdminClient(CommonOptions.WatchClient(parse.GetValue(bootstrap)!));
                using var screen = Screen.ForConsole(parse.GetValue(output) == "json");
                var view = new ClusterWatch(watching, screen, every, TimeProvider.System);
                return await WatchLoop.RunAsync(every, view.FetchAsync, view.Show, view.Failed, ct);
            }
            await using var admin = new AdminClient(CommonOptions.Client(parse.GetValue(bootstrap)!));
            var s = await admin.GetClusterStatusAsync();
            if (parse.GetValue(output) == "json")
            {
                CommonOptions.WriteJson(new
                {
                    nodes = s.Brokers.Select(b => new { id = b.NodeId, address = b.Address, roles = Roles(b.Roles), status = b.Status }),
                    partitions = s.Partitions.Select(p => new { topic = p.Topic, partition = p.Partition, node = p.Address }),
                });
                return CliRunner.Ok;
            }
            CommonOptions.WriteTable(["ID", "NODE", "ROLES", "STATUS", "LEADS"],
                s.Brokers.Select(b => (IReadOnlyList<string>)[b.NodeId < 0 ? "-" : CommonOptions.Cell(b.NodeId), b.Address, string.Join(",", Roles(b.Roles)), b.Status,
                    CommonOptions.Cell(s.Partitions.Count(p => p.Address == b.Address))]));
            if (s.Partitions.Count > 0)
            {
                Console.WriteLine();
                CommonOptions.WriteTable(["PARTITION", "LEADER"], s.Partitions.Select(p => (IReadOnlyList<string>)[$"{p.Topic}/{p.Partition}", p.Address]));
            }
            return CliRunner.Ok;
        }));
        return new Command("cluster", "Cluster information") { status };
    }

    /// <summary>The roles a user set (seed, worker); the node-id role is shown as the ID column.</summary>
    private static IEnumerable<string> Roles(IReadOnlyList<string> roles) => roles.Where(r => !r.StartsWith("node-", StringComparison.Ordinal));
}
