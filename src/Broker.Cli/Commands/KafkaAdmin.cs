using System.CommandLine;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Broker.Cli.Commands;

/// <summary>
/// How `broker acls` and `broker users` reach the cluster: through a node's Kafka listener with Kafka's admin APIs
/// (CreateAcls, AlterUserScramCredentials, ...), so they work on a secured cluster as a super user over SASL_SSL,
/// as kafka-acls.sh and kafka-configs.sh do. Client settings come from a properties file (Kafka's --command-config)
/// and --set, with librdkafka's names.
/// </summary>
internal static class KafkaAdmin
{
    public static Option<string> Bootstrap() => new("--bootstrap-server")
    {
        Description = "Kafka listener address(es), host:port[,host:port] (env BROKER_KAFKA_BOOTSTRAP)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("BROKER_KAFKA_BOOTSTRAP") is { Length: > 0 } env ? env : "127.0.0.1:9092",
    };

    public static Option<string?> CommandConfig() => new("--command-config")
    {
        Description = "Properties file of client settings, e.g. security.protocol=SASL_SSL, sasl.mechanism=SCRAM-SHA-512, sasl.username, sasl.password, ssl.ca.location (env BROKER_KAFKA_CONFIG)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("BROKER_KAFKA_CONFIG") is { Length: > 0 } env ? env : null,
    };

    public static Option<string[]> Set() => new("--set")
    {
        Description = "A client setting key=value, applied after --command-config (repeatable)",
        DefaultValueFactory = _ => [],
    };

    public static IAdminClient Connect(string bootstrap, string? commandConfig, IEnumerable<string> set)
    {
        var config = new AdminClientConfig { BootstrapServers = bootstrap, SocketTimeoutMs = 15000 };
        var pairs = new List<string>();
        if (commandConfig is not null)
        {
            if (!File.Exists(commandConfig)) throw new ArgumentException($"--command-config {commandConfig}: no such file");
            pairs.AddRange(File.ReadAllLines(commandConfig).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')));
        }
        pairs.AddRange(set);
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ArgumentException($"client setting '{pair}': expected key=value");
            config.Set(pair[..eq].Trim(), pair[(eq + 1)..].Trim());
        }
        return new AdminClientBuilder(config).Build();
    }

    /// <summary>Runs an admin call; a Kafka error prints its code and message (e.g. CLUSTER_AUTHORIZATION_FAILED) and exits 1.</summary>
    public static Task<int> Run(Func<Task<int>> body) => CliRunner.Run(async () =>
    {
        try
        {
            return await body();
        }
        catch (CreateAclsException ex)
        {
            return Failed(ex.Results.Select(r => r.Error));
        }
        catch (DeleteAclsException ex)
        {
            return Failed(ex.Results.Select(r => r.Error));
        }
        catch (DescribeAclsException ex)
        {
            return Failed([ex.Result.Error]);
        }
        catch (AlterUserScramCredentialsException ex)
        {
            return Failed(ex.Results.Select(r => r.Error));
        }
        catch (DescribeUserScramCredentialsException ex)
        {
            return Failed(ex.Results.UserScramCredentialsDescriptions.Select(r => r.Error));
        }
        catch (KafkaException ex)
        {
            Console.Error.WriteLine($"error: {ex.Error.Code} ({(int)ex.Error.Code}): {ex.Message}");
            return CliRunner.Failed;
        }
    });

    private static int Failed(IEnumerable<Error> errors)
    {
        foreach (var e in errors.Where(e => e.IsError)) Console.Error.WriteLine($"error: {e.Code} ({(int)e.Code}): {e.Reason}");
        return CliRunner.Failed;
    }
}
