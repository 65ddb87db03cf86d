using System.CommandLine;
using Confluent.Kafka;

namespace Broker.KafkaPerf;

/// <summary>Options both commands share, and the librdkafka settings they map to.</summary>
internal static class KafkaOptions
{
    public static Option<string> Bootstrap() => new("--bootstrap")
    {
        Description = "Kafka listener address(es), host:port[,host:port] (bootstrap.servers; env KAFKA_BOOTSTRAP)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP") is { Length: > 0 } env ? env : "127.0.0.1:9092",
    };

    public static Option<string> Output()
    {
        var option = new Option<string>("--output", "-o") { Description = "Output format: text or json", DefaultValueFactory = _ => "text" };
        option.AcceptOnlyFromAmong("text", "json");
        return option;
    }

    /// <summary>Any librdkafka property, applied last: --set compression.type=lz4 --set socket.nagle.disable=true.</summary>
    public static Option<string[]> Set() => new("--set")
    {
        Description = "Extra librdkafka property key=value, applied after the options above (repeatable)",
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => [],
    };

    public static Option<string> Acks()
    {
        var option = new Option<string>("--acks") { Description = "0 = do not wait, 1 = persisted by the partition leader, all = every in-sync replica (default all)", DefaultValueFactory = _ => "all" };
        option.AcceptOnlyFromAmong("0", "1", "all", "-1");
        return option;
    }

    public static Confluent.Kafka.Acks ParseAcks(string? value) => value switch
    {
        "0" => Confluent.Kafka.Acks.None,
        "1" => Confluent.Kafka.Acks.Leader,
        _ => Confluent.Kafka.Acks.All,
    };

    /// <summary>Applies --set key=value pairs to a client config; a pair without '=' is a usage error.</summary>
    public static void Apply(ClientConfig config, IEnumerable<string> pairs)
    {
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ArgumentException($"--set {pair}: expected key=value");
            config.Set(pair[..eq], pair[(eq + 1)..]);
        }
    }

    /// <summary>
    /// An admin client with the same --set properties (security.protocol, sasl.*, ...) as the producers and consumers,
    /// but for Confluent.Kafka's own dotnet.producer.* and dotnet.consumer.* ones, which its AdminClient refuses.
    /// </summary>
    public static IAdminClient Admin(string bootstrap, IEnumerable<string> set)
    {
        var config = new AdminClientConfig { BootstrapServers = bootstrap };
        Apply(config, set.Where(pair => !pair.StartsWith("dotnet.producer.", StringComparison.Ordinal) && !pair.StartsWith("dotnet.consumer.", StringComparison.Ordinal)));
        return new AdminClientBuilder(config).Build();
    }

    /// <summary>The partitions of <paramref name="topic"/> as the listener's Metadata reports them, waiting briefly for leaders (elected after CreateTopics returns).</summary>
    public static List<int> Partitions(string bootstrap, string topic, TimeSpan wait, IEnumerable<string> set)
    {
        using var admin = Admin(bootstrap, set);
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single();
            var led = metadata.Error.Code == ErrorCode.NoError && metadata.Partitions.Count > 0 && metadata.Partitions.TrueForAll(p => p.Leader >= 0);
            if (led) return metadata.Partitions.ConvertAll(p => p.PartitionId);
            if (DateTime.UtcNow > deadline)
                throw new KafkaException(metadata.Error.Code == ErrorCode.NoError ? new Error(ErrorCode.LeaderNotAvailable, $"topic {topic} has partitions without a leader") : metadata.Error);
            Thread.Sleep(200);
        }
    }
}
