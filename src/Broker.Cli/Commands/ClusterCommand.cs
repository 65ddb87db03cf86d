using System.CommandLine;
using Broker.Client;

namespace Broker.Cli.Commands;

/// <summary>`broker cluster status`: nodes (id, address, roles, state) and which node leads which partition.</summary>
public static class ClusterCommand
{
    public static Command Create()
    {
        var bootstrap = CommonOptions.Bootstrap();
        var output = CommonOptions.Output();
        var status = new Command("status", "Show the cluster's nodes (broker id, address, roles, state) and which node leads which partition. Replicas and in-sync replicas per partition: `broker topics describe`.") { bootstrap, output };
        status.SetAction(parse => CliRunner.Run(async () =>
        {
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
