using System.CommandLine;
using Broker.Client;
using Broker.Protocol;

namespace Broker.Cli;

/// <summary>Runs the parsed command: usage errors exit 2 with usage, broker errors exit 1 with the error code and its fix.</summary>
public static class CliRunner
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine($"run `broker {string.Join(' ', CommandPath(parsed))} --help` for usage");
            return Usage;
        }
        if (parsed.CommandResult.Command.Options.Contains(CommonOptions.ClientCommandConfig))
        {
            try
            {
                CommonOptions.LoadLogin(parsed.GetValue(CommonOptions.ClientCommandConfig));
            }
            catch (ArgumentException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return Usage;
            }
        }
        var config = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(20) };
        return await parsed.InvokeAsync(config);
    }

    private static Stack<string> CommandPath(ParseResult parsed)
    {
        var names = new Stack<string>();
        for (var r = parsed.CommandResult; r is not null && r.Parent is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Push(r.Command.Name);
        return names;
    }

    /// <summary>Wraps a command body so expected failures print one line naming the fix.</summary>
    public static async Task<int> Run(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (BrokerException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message} ({ex.Error})");
            return Failed;
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return Usage;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("interrupted");
            return Failed;
        }
        catch (Exception ex) when (ex is InvalidOperationException or InvalidDataException or IOException or Akka.Configuration.ConfigurationException)
        {
            // A refused plan, a data directory that belongs to another node, a bad config file: the message names the fix.
            Console.Error.WriteLine($"error: {ex.Message}");
            return Failed;
        }
    }

    public static BrokerException ToException(ErrorCode code, string? message) => new(code, message ?? code.ToString());
}
