using System.CommandLine;
using Broker.Client;

namespace Broker.Cli.Commands;

/// <summary>`broker cluster status`: nodes, roles, state, and which node hosts which partition.</summary>
public static class ClusterCommand
{
    public static Command Create()
    {
        var bootstrap = CommonOptions.Bootstrap();
        var output = CommonOptions.Output();
        var status = new Command("status", "Show the cluster's nodes (address, roles, state) and which node hosts which partition.") { bootstrap, output };
        status.SetAction(parse => CliRunner.Run(async () =>
        {
            await using var admin = new AdminClient(CommonOptions.Client(parse.GetValue(bootstrap)!));
            var s = await admin.GetClusterStatusAsync();
            if (parse.GetValue(output) == "json")
            {
                CommonOptions.WriteJson(new
                {
                    nodes = s.Brokers.Select(b => new { address = b.Address, roles = b.Roles, status = b.Status }),
                    partitions = s.Partitions.Select(p => new { topic = p.Topic, partition = p.Partition, node = p.Address }),
                });
                return CliRunner.Ok;
            }
            CommonOptions.WriteTable(["NODE", "ROLES", "STATUS", "PARTITIONS"],
                s.Brokers.Select(b => (IReadOnlyList<string>)[b.Address, string.Join(",", b.Roles), b.Status, s.Partitions.Count(p => p.Address == b.Address).ToString()]));
            if (s.Partitions.Count > 0)
            {
                Console.WriteLine();
                CommonOptions.WriteTable(["PARTITION", "NODE"], s.Partitions.Select(p => (IReadOnlyList<string>)[$"{p.Topic}/{p.Partition}", p.Address]));
            }
            return CliRunner.Ok;
        }));
        return new Command("cluster", "Cluster information") { status };
    }
}
