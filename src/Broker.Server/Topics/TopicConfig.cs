using System.Globalization;
using Broker.Protocol;
using Broker.Protocol.Messages;

namespace Broker.Server.Topics;

/// <summary>Which time a topic's records carry (Kafka's message.timestamp.type).</summary>
public enum MessageTimestampType
{
    /// <summary>The producer's timestamp on each record, checked against the topic's window.</summary>
    CreateTime,
    /// <summary>The leader's clock when it appends the batch, for every record of the batch.</summary>
    LogAppendTime,
}

/// <summary>A topic's effective settings, from its Kafka-style config keys with the node's defaults filled in.</summary>
public sealed record TopicConfig(long RetentionMs, long RetentionBytes, int MaxMessageBytes, int MinInsyncReplicas = 1, bool UncleanLeaderElection = false)
{
    public const string TimestampTypeKey = "message.timestamp.type";
    public const string TimestampBeforeMaxMsKey = "message.timestamp.before.max.ms";
    public const string TimestampAfterMaxMsKey = "message.timestamp.after.max.ms";

    /// <summary>Kafka 4's default of message.timestamp.after.max.ms: a record may be at most an hour ahead of the leader's clock.</summary>
    public const long DefaultTimestampAfterMaxMs = 3_600_000;

    public MessageTimestampType TimestampType { get; init; } = MessageTimestampType.CreateTime;

    /// <summary>How far before the leader's clock a CreateTime record may be (default unbounded, as in Kafka 4).</summary>
    public long TimestampBeforeMaxMs { get; init; } = long.MaxValue;

    /// <summary>How far after the leader's clock a CreateTime record may be (default one hour, as in Kafka 4).</summary>
    public long TimestampAfterMaxMs { get; init; } = DefaultTimestampAfterMaxMs;

    public const string RetentionMsKey = "retention.ms";
    public const string RetentionBytesKey = "retention.bytes";
    public const string MaxMessageBytesKey = "max.message.bytes";
    public const string MinInsyncReplicasKey = "min.insync.replicas";
    public const string UncleanLeaderElectionKey = "unclean.leader.election.enable";

    public static readonly IReadOnlyList<string> KnownKeys =
    [
        RetentionMsKey, RetentionBytesKey, MaxMessageBytesKey, MinInsyncReplicasKey, UncleanLeaderElectionKey,
        TimestampTypeKey, TimestampBeforeMaxMsKey, TimestampAfterMaxMsKey,
    ];

    /// <summary>
    /// The value each of <see cref="KnownKeys"/> has on a topic that does not set it, as Kafka's DescribeConfigs shows
    /// defaults: read back from the effective config of a topic without configs, so a new key cannot be forgotten here.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Defaults(BrokerSettings settings, int replicationFactor)
    {
        var d = From(new Dictionary<string, string>(), settings, replicationFactor);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [RetentionMsKey] = d.RetentionMs.ToString(CultureInfo.InvariantCulture),
            [RetentionBytesKey] = d.RetentionBytes.ToString(CultureInfo.InvariantCulture),
            [MaxMessageBytesKey] = d.MaxMessageBytes.ToString(CultureInfo.InvariantCulture),
            [MinInsyncReplicasKey] = d.MinInsyncReplicas.ToString(CultureInfo.InvariantCulture),
            [UncleanLeaderElectionKey] = d.UncleanLeaderElection ? "true" : "false",
            [TimestampTypeKey] = d.TimestampType.ToString(),
            [TimestampBeforeMaxMsKey] = d.TimestampBeforeMaxMs.ToString(CultureInfo.InvariantCulture),
            [TimestampAfterMaxMsKey] = d.TimestampAfterMaxMs.ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>min.insync.replicas defaults to min(2, replication factor): acks=all then means "on two disks" wherever there are two.</summary>
    public static int DefaultMinInsyncReplicas(int replicationFactor) => Math.Min(2, Math.Max(1, replicationFactor));

    public static TopicConfig From(IReadOnlyDictionary<string, string> configs, BrokerSettings settings, int replicationFactor) => new(
        configs.TryGetValue(RetentionMsKey, out var ms) ? long.Parse(ms, CultureInfo.InvariantCulture) : settings.DefaultRetentionMs,
        configs.TryGetValue(RetentionBytesKey, out var bytes) ? long.Parse(bytes, CultureInfo.InvariantCulture) : settings.DefaultRetentionBytes,
        configs.TryGetValue(MaxMessageBytesKey, out var max) ? int.Parse(max, CultureInfo.InvariantCulture) : settings.DefaultMaxMessageBytes,
        configs.TryGetValue(MinInsyncReplicasKey, out var minIsr) ? int.Parse(minIsr, CultureInfo.InvariantCulture) : DefaultMinInsyncReplicas(replicationFactor),
        configs.TryGetValue(UncleanLeaderElectionKey, out var unclean) && bool.Parse(unclean))
    {
        TimestampType = configs.TryGetValue(TimestampTypeKey, out var type) && TryParseTimestampType(type, out var parsed) ? parsed : MessageTimestampType.CreateTime,
        TimestampBeforeMaxMs = configs.TryGetValue(TimestampBeforeMaxMsKey, out var before) ? long.Parse(before, CultureInfo.InvariantCulture) : long.MaxValue,
        TimestampAfterMaxMs = configs.TryGetValue(TimestampAfterMaxMsKey, out var after) ? long.Parse(after, CultureInfo.InvariantCulture) : DefaultTimestampAfterMaxMs,
    };

    /// <summary>Kafka's spellings, CreateTime and LogAppendTime (case-insensitive).</summary>
    public static bool TryParseTimestampType(string value, out MessageTimestampType type)
    {
        if (string.Equals(value, "CreateTime", StringComparison.OrdinalIgnoreCase))
        {
            type = MessageTimestampType.CreateTime;
            return true;
        }
        type = MessageTimestampType.LogAppendTime;
        return string.Equals(value, "LogAppendTime", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Null when valid; otherwise a message that says which key is wrong and what is allowed.</summary>
    public static string? Validate(IReadOnlyDictionary<string, string> configs, BrokerSettings settings)
    {
        foreach (var (key, value) in configs)
        {
            switch (key)
            {
                case RetentionMsKey or RetentionBytesKey:
                    if (!long.TryParse(value, out var n) || n < -1)
                        return $"{key} must be a whole number >= -1 (-1 = unlimited), got '{value}'";
                    break;
                case MaxMessageBytesKey:
                    if (!int.TryParse(value, out var m) || m < 64 || m > settings.MaxRequestBytes)
                        return $"{key} must be between 64 and {settings.MaxRequestBytes} (broker.limits.max-request-bytes), got '{value}'";
                    break;
                case MinInsyncReplicasKey:
                    if (!int.TryParse(value, out var isr) || isr < 1)
                        return $"{key} must be a whole number >= 1, got '{value}'";
                    break;
                case UncleanLeaderElectionKey:
                    if (!bool.TryParse(value, out _))
                        return $"{key} must be true or false, got '{value}'";
                    break;
                case TimestampTypeKey:
                    if (!TryParseTimestampType(value, out _))
                        return $"{key} must be CreateTime or LogAppendTime, got '{value}'";
                    break;
                case TimestampBeforeMaxMsKey or TimestampAfterMaxMsKey:
                    if (!long.TryParse(value, out var window) || window < 0)
                        return $"{key} must be a whole number of milliseconds >= 0, got '{value}'";
                    break;
                default:
                    return $"unknown topic config '{key}'; supported: {string.Join(", ", KnownKeys)}";
            }
        }
        return null;
    }

    /// <summary>A topic's configs after key-by-key changes (IncrementalAlterConfigs): set replaces or adds, delete falls back to the default.</summary>
    public static IReadOnlyDictionary<string, string> Apply(IReadOnlyDictionary<string, string> configs, IReadOnlyList<TopicConfigChange> changes)
    {
        var result = new Dictionary<string, string>(configs, StringComparer.Ordinal);
        foreach (var change in changes)
        {
            if (change.Operation == ConfigOperation.Delete || change.Value is null) result.Remove(change.Key);
            else result[change.Key] = change.Value;
        }
        return result;
    }

    /// <summary>Null when min.insync.replicas (if set) fits the replication factor: acks=all produces could never succeed otherwise.</summary>
    public static string? ValidateMinInsyncReplicas(IReadOnlyDictionary<string, string> configs, int replicationFactor) =>
        configs.TryGetValue(MinInsyncReplicasKey, out var minIsr) && int.Parse(minIsr, CultureInfo.InvariantCulture) > replicationFactor
            ? $"{MinInsyncReplicasKey}={minIsr} is larger than the replication factor {replicationFactor}; acks=all produces could never succeed"
            : null;

    /// <summary>Kafka's rule: 1-249 characters of [a-zA-Z0-9._-], not "." or "..".</summary>
    public static string? ValidateName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 249)
            return "topic names must be 1 to 249 characters";
        if (name is "." or "..")
            return "topic name cannot be '.' or '..'";
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                return $"topic name '{name}' has an invalid character '{c}'; use letters, digits, '.', '_' and '-'";
        }
        return null;
    }

    public static ErrorCode ErrorFor(string? validation) => validation is null ? ErrorCode.None : ErrorCode.InvalidConfig;
}
