using System.Collections.Immutable;

namespace Broker.Server.Security.Authorization;

/// <summary>
/// Kafka's StandardAuthorizer rules as a plain function of the ACLs (no actor, no I/O), shared by both doors:
/// <list type="number">
/// <item>a super user (<c>broker.security.authorization.super-users</c>) may do anything;</item>
/// <item>a matching Deny wins over any Allow;</item>
/// <item>a matching Allow allows; Allow of Read, Write, Delete or Alter implies Describe, and Allow of AlterConfigs
/// implies DescribeConfigs (Kafka's implications; a Deny implies nothing beyond its own operation);</item>
/// <item>no ACL at all on the resource: allowed only when <c>allow-everyone-if-no-acl-found</c> is on (Kafka's
/// <c>allow.everyone.if.no.acl.found</c>, off by default); otherwise denied.</item>
/// </list>
/// An ACL matches when its resource matches (literal name, <c>*</c>, or prefix), its principal is the caller's or
/// <c>User:*</c>, its host is the caller's or <c>*</c>, and its operation is the one asked or All.
/// </summary>
public sealed class Authorizer(IReadOnlyCollection<AclBinding> acls, ImmutableHashSet<string> superUsers, bool allowEveryoneIfNoAclFound)
{
    /// <summary>An authorizer with no ACLs and no super users that denies everything, unless <paramref name="allowIfNone"/>.</summary>
    public static Authorizer Empty(ImmutableHashSet<string> superUsers, bool allowIfNone) => new([], superUsers, allowIfNone);

    public IReadOnlyCollection<AclBinding> Acls => acls;

    public bool IsSuperUser(string principal) => superUsers.Contains(principal);

    public bool Authorize(string principal, string host, AclOperation operation, ResourceType type, string name)
    {
        if (superUsers.Contains(principal)) return true;
        var anyOnResource = false;
        var allowed = false;
        foreach (var acl in acls)
        {
            if (!acl.Matches(type, name)) continue;
            anyOnResource = true;
            if (!AppliesTo(acl, principal, host)) continue;
            if (acl.Permission == AclPermissionType.Deny)
            {
                if (acl.Operation == operation || acl.Operation == AclOperation.All) return false;
            }
            else if (Implies(acl.Operation, operation))
            {
                allowed = true;
            }
        }
        return allowed || (!anyOnResource && allowEveryoneIfNoAclFound);
    }

    /// <summary>
    /// Whether <paramref name="principal"/> may perform <paramref name="operation"/> on some resource of
    /// <paramref name="type"/> (Kafka's authorizeByResourceType, which lets a producer with Write on any topic be
    /// idempotent): some Allow applies, and no Deny applies to every name (literal <c>*</c>).
    /// </summary>
    public bool AuthorizeAny(string principal, string host, AclOperation operation, ResourceType type)
    {
        if (superUsers.Contains(principal)) return true;
        var allowed = false;
        foreach (var acl in acls)
        {
            if (acl.ResourceType != type || !AppliesTo(acl, principal, host)) continue;
            if (acl.Permission == AclPermissionType.Deny)
            {
                var everyName = acl.Pattern == PatternType.Literal && acl.ResourceName == AclBinding.Wildcard;
                if (everyName && (acl.Operation == operation || acl.Operation == AclOperation.All)) return false;
            }
            else if (Implies(acl.Operation, operation))
            {
                allowed = true;
            }
        }
        return allowed;
    }

    private static bool AppliesTo(AclBinding acl, string principal, string host) =>
        (acl.Principal == principal || acl.Principal == AclBinding.AnyUser) && (acl.Host == AclBinding.Wildcard || acl.Host == host);

    private static bool Implies(AclOperation granted, AclOperation asked) =>
        granted == asked
        || granted == AclOperation.All
        || asked == AclOperation.Describe && granted is AclOperation.Read or AclOperation.Write or AclOperation.Delete or AclOperation.Alter
        || asked == AclOperation.DescribeConfigs && granted == AclOperation.AlterConfigs;
}
