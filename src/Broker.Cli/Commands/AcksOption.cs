using System.CommandLine;
using Broker.Client;

namespace Broker.Cli.Commands;

/// <summary>--acks 0|1|all, as Kafka's producer setting.</summary>
public static class AcksOption
{
    public static Option<string> Create()
    {
        var option = new Option<string>("--acks") { Description = "0 = do not wait, 1 = persisted by the partition, all = every replica (default all)", DefaultValueFactory = _ => "all" };
        option.AcceptOnlyFromAmong("0", "1", "all", "-1");
        return option;
    }

    public static Acks Parse(string? value) => value switch
    {
        "0" => Acks.None,
        "1" => Acks.Leader,
        _ => Acks.All,
    };
}
