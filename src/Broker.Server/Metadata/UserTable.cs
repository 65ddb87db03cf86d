using System.Collections.Immutable;
using Akka.DistributedData;
using Broker.Server.Security.Sasl;

namespace Broker.Server.Metadata;

/// <summary>
/// A SASL user as the metadata store keeps it: one SCRAM credential per mechanism (salt, iterations, StoredKey,
/// ServerKey; never the password). A removal is a tombstone at a higher version.
/// </summary>
public sealed record UserEntry(string Name, ImmutableArray<ScramCredential> Credentials, long Version, bool Deleted) : IComparable<UserEntry>
{
    public int CompareTo(UserEntry? other)
    {
        if (other is null) return 1;
        var c = Version.CompareTo(other.Version);
        return c != 0 ? c : Deleted.CompareTo(other.Deleted);
    }

    public ScramCredential? Find(ScramMechanism mechanism)
    {
        foreach (var credential in Credentials)
        {
            if (credential.Mechanism == mechanism) return credential;
        }
        return null;
    }
}

/// <summary>The cluster's SASL users by name. Key <see cref="MetadataKeys.Users"/>.</summary>
public sealed class UserTable : VersionedMap<UserEntry, UserTable>
{
    public static readonly UserTable Empty = new(ImmutableSortedDictionary.Create<string, UserEntry>(StringComparer.Ordinal));

    public UserTable(ImmutableSortedDictionary<string, UserEntry> entries) : base(entries) { }

    protected override UserTable With(ImmutableSortedDictionary<string, UserEntry> entries) => new(entries);

    public UserEntry? Find(string name) => Get(name) is { Deleted: false } user ? user : null;

    /// <summary>This table with <paramref name="credential"/> set for <paramref name="name"/> (replacing that mechanism's).</summary>
    public UserTable SetCredential(string name, ScramCredential credential)
    {
        var current = Get(name);
        var kept = current is { Deleted: false } ? current.Credentials.RemoveAll(c => c.Mechanism == credential.Mechanism) : [];
        return Put(name, new UserEntry(name, kept.Add(credential), (current?.Version ?? 0) + 1, Deleted: false));
    }

    /// <summary>This table without <paramref name="mechanism"/>'s credential for <paramref name="name"/> (all of them when null); the user goes when none is left.</summary>
    public UserTable RemoveCredential(string name, ScramMechanism? mechanism)
    {
        if (Get(name) is not { Deleted: false } current) return this;
        var kept = mechanism is { } m ? current.Credentials.RemoveAll(c => c.Mechanism == m) : [];
        if (kept.Length == current.Credentials.Length) return this;
        return Put(name, current with { Credentials = kept, Version = current.Version + 1, Deleted = kept.IsEmpty });
    }
}

public sealed class UserTableKey() : Key<UserTable>(MetadataKeys.UsersId);
