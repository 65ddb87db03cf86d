using System.CommandLine;
using Broker.Cli;
using Broker.Cli.Commands;

// The `broker` executable: one root command, a subcommand per task. Each command file builds its own
// options and action; CliRunner turns failures into one clear stderr line and an exit code.
var root = new RootCommand("""
    broker: a Kafka-like persistent message log on Akka.NET.

    Start a node with `broker node`, then use the client commands against it
    (default bootstrap 127.0.0.1:9190). Every command has --help.
    """)
{
    NodeCommand.Create(),
    TopicsCommand.Create(),
    PartitionsCommand.Create(),
    ProduceCommand.Create(),
    ConsumeCommand.Create(),
    GroupsCommand.Create(),
    RecordsCommand.Create(),
    PerfCommand.Create(),
    ClusterCommand.Create(),
    CertsCommand.Create(),
    AclsCommand.Create(),
    UsersCommand.Create(),
};
// Every native client command (those with --bootstrap) takes --command-config for its login on a node's client door.
AddClientCommandConfig(root);
return await CliRunner.InvokeAsync(root, args);

static void AddClientCommandConfig(Command command)
{
    if (command.Options.Any(o => o.Name == "--bootstrap")) command.Options.Add(CommonOptions.ClientCommandConfig);
    foreach (var sub in command.Subcommands) AddClientCommandConfig(sub);
}
