using Akka.Event;
using Broker.Kafka;
using Broker.Server.Metadata;
using Broker.Server.Security.Authorization;
using Broker.Server.Security.Sasl;
using K = Broker.Kafka.Messages;

namespace Broker.Server.Kafka;

// Kafka's security admin APIs: CreateAcls, DescribeAcls, DeleteAcls, AlterUserScramCredentials and
// DescribeUserScramCredentials, on the replicated ACL and user tables. Changing needs Alter on the cluster, reading
// Describe (a super user has both). They answer even while authorization is off, so ACLs can be in place before it
// is turned on (Kafka answers SECURITY_DISABLED then).
internal sealed partial class KafkaRequestHandler
{
    private const sbyte Any = 1;

    /// <summary>The metadata store that holds ACLs and users; set by the listener.</summary>
    public MetadataStore? Metadata { get; init; }

    private MetadataStore Store => Metadata ?? throw new InvalidOperationException("the Kafka listener has no metadata store");

    /// <summary>Null when <paramref name="who"/> may <paramref name="operation"/> the cluster; else the refusal.</summary>
    private string? ClusterRefusal(KafkaPrincipal who, AclOperation operation) =>
        Allowed(who, operation, ResourceType.Cluster, AclBinding.ClusterName) ? null : Refusal(who, operation, ResourceType.Cluster, AclBinding.ClusterName);

    private async Task<IKafkaMessage?> CreateAclsAsync(K.CreateAclsRequest request, KafkaPrincipal who)
    {
        var results = new List<K.CreateAclsResponse.AclCreationResult>(request.Creations.Count);
        var valid = new List<AclBinding>();
        var refusal = ClusterRefusal(who, AclOperation.Alter);
        foreach (var c in request.Creations)
        {
            var (acl, problem) = refusal is null ? ParseAcl(c.ResourceType, c.ResourceName, c.ResourcePatternType, c.Principal, c.Host, c.Operation, c.PermissionType) : (null, refusal);
            if (acl is not null) valid.Add(acl);
            results.Add(new() { ErrorCode = problem is null ? KafkaErrors.None : refusal is null ? KafkaErrors.InvalidRequest : KafkaErrors.ClusterAuthorizationFailed, ErrorMessage = problem });
        }
        if (valid.Count > 0)
        {
            var error = await WriteAsync(() => Store.UpdateAclsAsync(table =>
            {
                foreach (var acl in valid) table = table.Add(acl);
                return table;
            })).ConfigureAwait(false);
            if (error is not null)
            {
                foreach (var r in results)
                {
                    if (r.ErrorCode == KafkaErrors.None) (r.ErrorCode, r.ErrorMessage) = (KafkaErrors.RequestTimedOut, error);
                }
            }
            else
            {
                _log.Info("kafka: {0} created ACLs: {1}", who.Name, string.Join("; ", valid));
            }
        }
        return new K.CreateAclsResponse { Results = results };
    }

    private async Task<IKafkaMessage?> DescribeAclsAsync(K.DescribeAclsRequest request, KafkaPrincipal who)
    {
        if (ClusterRefusal(who, AclOperation.Describe) is { } refusal)
            return new K.DescribeAclsResponse { ErrorCode = KafkaErrors.ClusterAuthorizationFailed, ErrorMessage = refusal };
        var filter = Filter(request.ResourceTypeFilter, request.ResourceNameFilter, request.PatternTypeFilter, request.PrincipalFilter, request.HostFilter, request.Operation, request.PermissionType);
        AclTable table;
        try
        {
            table = await Store.AclsAsync(majority: true).ConfigureAwait(false);
        }
        catch (MetadataUnavailableException ex)
        {
            return new K.DescribeAclsResponse { ErrorCode = KafkaErrors.RequestTimedOut, ErrorMessage = ex.Message };
        }
        var resources = new List<K.DescribeAclsResponse.DescribeAclsResource>();
        foreach (var group in table.Live().Where(filter.Matches).GroupBy(a => (a.ResourceType, a.ResourceName, a.Pattern)))
        {
            resources.Add(new()
            {
                ResourceType = (sbyte)group.Key.ResourceType,
                ResourceName = group.Key.ResourceName,
                PatternType = (sbyte)group.Key.Pattern,
                Acls = group.Select(a => new K.DescribeAclsResponse.AclDescription
                {
                    Principal = a.Principal, Host = a.Host, Operation = (sbyte)a.Operation, PermissionType = (sbyte)a.Permission,
                }).ToList(),
            });
        }
        return new K.DescribeAclsResponse { Resources = resources };
    }

    private async Task<IKafkaMessage?> DeleteAclsAsync(K.DeleteAclsRequest request, KafkaPrincipal who)
    {
        if (ClusterRefusal(who, AclOperation.Alter) is { } refusal)
        {
            return new K.DeleteAclsResponse
            {
                FilterResults = request.Filters.Select(_ => new K.DeleteAclsResponse.DeleteAclsFilterResult { ErrorCode = KafkaErrors.ClusterAuthorizationFailed, ErrorMessage = refusal }).ToList(),
            };
        }
        var filters = request.Filters.Select(f => Filter(f.ResourceTypeFilter, f.ResourceNameFilter, f.PatternTypeFilter, f.PrincipalFilter, f.HostFilter, f.Operation, f.PermissionType)).ToList();
        var removed = new List<AclBinding>[filters.Count];
        var error = await WriteAsync(() => Store.UpdateAclsAsync(table =>
        {
            for (var i = 0; i < filters.Count; i++)
            {
                (table, var gone) = table.Remove(filters[i]);
                removed[i] = [.. gone];
            }
            return table;
        })).ConfigureAwait(false);
        var results = new List<K.DeleteAclsResponse.DeleteAclsFilterResult>(filters.Count);
        for (var i = 0; i < filters.Count; i++)
        {
            results.Add(error is not null
                ? new() { ErrorCode = KafkaErrors.RequestTimedOut, ErrorMessage = error }
                : new()
                {
                    MatchingAcls = removed[i].Select(a => new K.DeleteAclsResponse.DeleteAclsMatchingAcl
                    {
                        ResourceType = (sbyte)a.ResourceType, ResourceName = a.ResourceName, PatternType = (sbyte)a.Pattern, Principal = a.Principal, Host = a.Host,
                        Operation = (sbyte)a.Operation, PermissionType = (sbyte)a.Permission,
                    }).ToList(),
                });
        }
        if (error is null) _log.Info("kafka: {0} deleted ACLs: {1}", who.Name, string.Join("; ", removed.SelectMany(r => r)));
        return new K.DeleteAclsResponse { FilterResults = results };
    }

    private async Task<IKafkaMessage?> AlterUserScramCredentialsAsync(K.AlterUserScramCredentialsRequest request, KafkaPrincipal who)
    {
        var problems = new Dictionary<string, (short, string)>(StringComparer.Ordinal);
        var refusal = ClusterRefusal(who, AclOperation.Alter);
        var upserts = new List<(string User, ScramCredential Credential)>();
        var deletions = new List<(string User, ScramMechanism Mechanism)>();
        foreach (var u in request.Upsertions)
        {
            if (refusal is not null) problems[u.Name] = (KafkaErrors.ClusterAuthorizationFailed, refusal);
            else if (Mechanism(u.Mechanism) is not { } mechanism) problems[u.Name] = (KafkaErrors.UnacceptableCredential, $"unknown SCRAM mechanism {u.Mechanism}");
            else if (u.Iterations < ScramCredential.MinIterations) problems[u.Name] = (KafkaErrors.UnacceptableCredential, $"iterations must be at least {ScramCredential.MinIterations}");
            else if (u.Name.Length == 0) problems[u.Name] = (KafkaErrors.UnacceptableCredential, "a user needs a name");
            else upserts.Add((u.Name, ScramCredential.FromSaltedPassword(mechanism, u.Salt, u.Iterations, u.SaltedPassword)));
        }
        UserTable? before = null;
        foreach (var d in request.Deletions)
        {
            if (refusal is not null) problems[d.Name] = (KafkaErrors.ClusterAuthorizationFailed, refusal);
            else if (Mechanism(d.Mechanism) is not { } mechanism) problems[d.Name] = (KafkaErrors.UnacceptableCredential, $"unknown SCRAM mechanism {d.Mechanism}");
            else deletions.Add((d.Name, mechanism));
        }
        string? error = null;
        if (upserts.Count + deletions.Count > 0)
        {
            error = await WriteAsync(() => Store.UpdateUsersAsync(table =>
            {
                before = table;
                foreach (var (user, credential) in upserts) table = table.SetCredential(user, credential);
                foreach (var (user, mechanism) in deletions) table = table.RemoveCredential(user, mechanism);
                return table;
            })).ConfigureAwait(false);
        }
        foreach (var (user, mechanism) in deletions)
        {
            if (error is null && before?.Find(user)?.Find(mechanism) is null)
                problems.TryAdd(user, (KafkaErrors.ResourceNotFound, $"user {user} has no {ScramCredential.Name(mechanism)} credential"));
        }
        if (error is null && upserts.Count + deletions.Count > 0)
            _log.Info("kafka: {0} changed SCRAM credentials of {1}", who.Name, string.Join(", ", upserts.Select(u => u.User).Concat(deletions.Select(d => d.User)).Distinct()));
        var users = request.Upsertions.Select(u => u.Name).Concat(request.Deletions.Select(d => d.Name)).Distinct(StringComparer.Ordinal);
        return new K.AlterUserScramCredentialsResponse
        {
            Results = users.Select(user => problems.TryGetValue(user, out var p)
                ? new K.AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult { User = user, ErrorCode = p.Item1, ErrorMessage = p.Item2 }
                : new K.AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult
                {
                    User = user, ErrorCode = error is null ? KafkaErrors.None : KafkaErrors.RequestTimedOut, ErrorMessage = error,
                }).ToList(),
        };
    }

    private async Task<IKafkaMessage?> DescribeUserScramCredentialsAsync(K.DescribeUserScramCredentialsRequest request, KafkaPrincipal who)
    {
        if (ClusterRefusal(who, AclOperation.Describe) is { } refusal)
            return new K.DescribeUserScramCredentialsResponse { ErrorCode = KafkaErrors.ClusterAuthorizationFailed, ErrorMessage = refusal };
        UserTable table;
        try
        {
            table = await Store.UsersAsync(majority: true).ConfigureAwait(false);
        }
        catch (MetadataUnavailableException ex)
        {
            return new K.DescribeUserScramCredentialsResponse { ErrorCode = KafkaErrors.RequestTimedOut, ErrorMessage = ex.Message };
        }
        // Null or empty: every user (Kafka's rule), named by its key (entries a metadata quorum stored before 2026-12-06 carry no name of their own).
        var names = request.Users is { Count: > 0 } asked ? asked.Select(u => u.Name) : table.Entries.Where(u => !u.Value.Deleted).Select(u => u.Key);
        var results = new List<K.DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult>();
        foreach (var name in names)
        {
            results.Add(table.Find(name) is { } user
                ? new() { User = name, CredentialInfos = user.Credentials.Select(c => new K.DescribeUserScramCredentialsResponse.CredentialInfo { Mechanism = KafkaMechanism(c.Mechanism), Iterations = c.Iterations }).ToList() }
                : new() { User = name, ErrorCode = KafkaErrors.ResourceNotFound, ErrorMessage = $"no user {name}" });
        }
        return new K.DescribeUserScramCredentialsResponse { Results = results };
    }

    /// <summary>Runs a metadata write; null when it was committed, else why not.</summary>
    private static async Task<string?> WriteAsync(Func<Task> write)
    {
        try
        {
            await write().ConfigureAwait(false);
            return null;
        }
        catch (MetadataUnavailableException ex)
        {
            return ex.Message;
        }
    }

    private static ScramMechanism? Mechanism(sbyte kafka) => kafka switch
    {
        1 => ScramMechanism.Sha256,
        2 => ScramMechanism.Sha512,
        _ => null,
    };

    private static sbyte KafkaMechanism(ScramMechanism mechanism) => mechanism == ScramMechanism.Sha256 ? (sbyte)1 : (sbyte)2;

    /// <summary>An ACL from the wire, or why it is not one this broker can hold.</summary>
    private static (AclBinding? Acl, string? Problem) ParseAcl(sbyte type, string name, sbyte pattern, string principal, string host, sbyte operation, sbyte permission)
    {
        if (!Enum.IsDefined((ResourceType)type)) return (null, $"resource type {type} is not one of Topic (2), Group (3), Cluster (4), TransactionalId (5)");
        if (!Enum.IsDefined((PatternType)pattern)) return (null, $"pattern type {pattern} is not LITERAL (3) or PREFIXED (4)");
        if (!Enum.IsDefined((AclOperation)operation)) return (null, $"operation {operation} is not a concrete operation");
        if (!Enum.IsDefined((AclPermissionType)permission)) return (null, $"permission type {permission} is not DENY (2) or ALLOW (3)");
        if (!principal.StartsWith("User:", StringComparison.Ordinal) || principal.Length == 5) return (null, $"principal '{principal}' is not User:NAME (or User:*)");
        if (string.IsNullOrEmpty(name)) return (null, "the resource needs a name");
        if ((ResourceType)type == ResourceType.Cluster && name != AclBinding.ClusterName) return (null, $"the cluster resource is named {AclBinding.ClusterName}");
        return (new AclBinding((ResourceType)type, name, (PatternType)pattern, principal, string.IsNullOrEmpty(host) ? AclBinding.Wildcard : host, (AclOperation)operation, (AclPermissionType)permission), null);
    }

    /// <summary>A Kafka ACL filter (ANY = 1 and null match anything; MATCH = 2 is read as ANY).</summary>
    private static AclFilter Filter(sbyte type, string? name, sbyte pattern, string? principal, string? host, sbyte operation, sbyte permission) => new(
        type <= Any ? null : (ResourceType)type,
        name,
        pattern <= 2 ? null : (PatternType)pattern,
        principal,
        host,
        operation <= Any ? null : (AclOperation)operation,
        permission <= Any ? null : (AclPermissionType)permission);
}
