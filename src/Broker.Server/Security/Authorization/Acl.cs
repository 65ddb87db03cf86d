namespace Broker.Server.Security.Authorization;

// Kafka's ACL model (org.apache.kafka.common.acl / resource). The numeric values are Kafka's wire codes, so the
// listener's CreateAcls/DescribeAcls answers and the stored entries share one numbering.

/// <summary>What an ACL protects (Kafka's ResourceType).</summary>
public enum ResourceType : byte
{
    Topic = 2,
    Group = 3,
    Cluster = 4,
    TransactionalId = 5,
}

/// <summary>How an ACL's resource name matches (Kafka's PatternType): the exact name (or <c>*</c>, every name), or a prefix.</summary>
public enum PatternType : byte
{
    Literal = 3,
    Prefixed = 4,
}

/// <summary>An operation a principal asks to perform on a resource (Kafka's AclOperation).</summary>
public enum AclOperation : byte
{
    All = 2,
    Read = 3,
    Write = 4,
    Create = 5,
    Delete = 6,
    Alter = 7,
    Describe = 8,
    ClusterAction = 9,
    DescribeConfigs = 10,
    AlterConfigs = 11,
    IdempotentWrite = 12,
}

/// <summary>Whether an ACL allows or denies (Kafka's AclPermissionType); a matching Deny always wins.</summary>
public enum AclPermissionType : byte
{
    Deny = 2,
    Allow = 3,
}

/// <summary>
/// One ACL: <paramref name="Principal"/> (<c>User:alice</c>, or <c>User:*</c> for everyone) from <paramref name="Host"/>
/// (<c>*</c>: any) may (or may not) perform <paramref name="Operation"/> on the resources of <paramref name="ResourceType"/>
/// whose name matches <paramref name="ResourceName"/> under <paramref name="Pattern"/>.
/// </summary>
public sealed record AclBinding(ResourceType ResourceType, string ResourceName, PatternType Pattern, string Principal, string Host, AclOperation Operation, AclPermissionType Permission)
{
    public const string Wildcard = "*";
    public const string AnyUser = "User:*";

    /// <summary>The cluster resource's only name, as in Kafka.</summary>
    public const string ClusterName = "kafka-cluster";

    /// <summary>The key of this ACL in the replicated ACL table: every field, so two different ACLs never share one.</summary>
    public string Key => $"{ResourceType}|{Pattern}|{ResourceName}|{Principal}|{Host}|{Operation}|{Permission}";

    public bool Matches(ResourceType type, string name) =>
        type == ResourceType && Pattern switch
        {
            PatternType.Literal => ResourceName == Wildcard || ResourceName == name,
            PatternType.Prefixed => name.StartsWith(ResourceName, StringComparison.Ordinal),
            _ => false,
        };

    public override string ToString() =>
        $"{Permission} {Principal} {Operation} on {ResourceType}:{(Pattern == PatternType.Prefixed ? ResourceName + "*" : ResourceName)}{(Host == Wildcard ? "" : $" from {Host}")}";
}

/// <summary>
/// Which ACLs a DescribeAcls or DeleteAcls means: each null field matches anything; a non-null one must be equal
/// (Kafka's AclBindingFilter without its MATCH pattern type).
/// </summary>
public sealed record AclFilter(ResourceType? ResourceType = null, string? ResourceName = null, PatternType? Pattern = null, string? Principal = null,
    string? Host = null, AclOperation? Operation = null, AclPermissionType? Permission = null)
{
    public static readonly AclFilter Any = new();

    public bool Matches(AclBinding acl) =>
        (ResourceType is null || ResourceType == acl.ResourceType)
        && (ResourceName is null || ResourceName == acl.ResourceName)
        && (Pattern is null || Pattern == acl.Pattern)
        && (Principal is null || Principal == acl.Principal)
        && (Host is null || Host == acl.Host)
        && (Operation is null || Operation == acl.Operation)
        && (Permission is null || Permission == acl.Permission);
}
