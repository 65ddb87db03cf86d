using System.Collections.Immutable;
using Akka.Configuration;

namespace Broker.Server.Security.Authorization;

/// <summary>
/// broker.security.authorization: whether requests are checked against the ACLs, who is a super user (Kafka's
/// super.users, principals as <c>User:NAME</c>) and Kafka's allow.everyone.if.no.acl.found. Off by default.
/// </summary>
public sealed record AuthorizationSettings(bool Enabled, ImmutableHashSet<string> SuperUsers, bool AllowEveryoneIfNoAclFound)
{
    public static readonly AuthorizationSettings Off = new(false, [], false);

    public static AuthorizationSettings Create(Config security)
    {
        var authorization = security.GetConfig("authorization");
        if (authorization is null || authorization.IsEmpty) return Off;
        var superUsers = authorization.GetStringList("super-users", []).ToImmutableHashSet(StringComparer.Ordinal);
        foreach (var user in superUsers)
        {
            if (!user.StartsWith("User:", StringComparison.Ordinal))
                throw new ConfigurationException($"broker.security.authorization.super-users: '{user}' is not a principal; write User:NAME (Kafka's super.users)");
        }
        return new AuthorizationSettings(authorization.GetBoolean("enabled", false), superUsers, authorization.GetBoolean("allow-everyone-if-no-acl-found", false));
    }
}
