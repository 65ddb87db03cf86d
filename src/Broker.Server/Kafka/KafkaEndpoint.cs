using Akka.Cluster;

namespace Broker.Server.Kafka;

/// <summary>
/// Where a node's Kafka listener is reached, announced as the cluster role <c>kafka=host:port</c> (as the
/// node id is announced as <c>node-&lt;id&gt;</c>), so every node can list every other node in Metadata.
/// </summary>
public static class KafkaEndpoint
{
    public const string RolePrefix = "kafka=";

    public static string Role(string host, int port) => $"{RolePrefix}{host}:{port}";

    /// <summary>The host and port in a member's Kafka role, or null for a node without a Kafka listener.</summary>
    public static (string Host, int Port)? Parse(IEnumerable<string> roles)
    {
        foreach (var role in roles)
        {
            if (!role.StartsWith(RolePrefix, StringComparison.Ordinal)) continue;
            var colon = role.LastIndexOf(':');
            if (colon <= RolePrefix.Length || !int.TryParse(role.AsSpan(colon + 1), out var port)) continue;
            return (role[RolePrefix.Length..colon], port);
        }
        return null;
    }

    public static (string Host, int Port)? Of(Member member) => Parse(member.Roles);
}
