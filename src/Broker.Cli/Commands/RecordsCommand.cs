using System.CommandLine;
using Broker.Client;

namespace Broker.Cli.Commands;

/// <summary>`broker records delete`, like kafka-delete-records.</summary>
public static class RecordsCommand
{
    public static Command Create() => new("records", "Delete a partition's oldest records")
    {
        DeleteCommand(),
    };

    private static Command DeleteCommand()
    {
        var topic = new Argument<string>("topic") { Description = "Topic whose records to delete" };
        var partition = new Option<int>("--partition") { Description = "Partition whose records to delete", Required = true };
        var before = new Option<long>("--before") { Description = "Delete every record below this offset (-1: every committed record)", Required = true };
        var bootstrap = CommonOptions.Bootstrap();
        var command = new Command("delete", """
            Delete a partition's records below an offset: its log start moves there, so consumers
            reading from the beginning start at it (as kafka-delete-records).
            Example: broker records delete orders --partition 0 --before 1000
            """)
        {
            topic, partition, before, bootstrap,
        };
        command.SetAction(parse => CliRunner.Run(async () =>
        {
            var name = parse.GetValue(topic)!;
            await using var admin = new AdminClient(CommonOptions.Client(parse.GetValue(bootstrap)!));
            var logStart = await admin.DeleteRecordsAsync(name, parse.GetValue(partition), parse.GetValue(before));
            Console.WriteLine($"{name}/{parse.GetValue(partition)} now starts at offset {logStart}");
            return CliRunner.Ok;
        }));
        return command;
    }
}
